// zlib for the Remoting target: RegisterBrokerBody is java.util.zip Deflater output (zlib format).
#include <zlib.h>
