// zstd for the Client target: message bodies compressed with sysFlag compression type ZSTD (0x200).
#include <zstd.h>
