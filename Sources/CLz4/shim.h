// lz4 frame format for the Client target: message bodies with sysFlag compression type LZ4 (0x100).
#include <lz4frame.h>
