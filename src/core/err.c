/*
 * err.c - messages for the project-wide error codes of err.h.
 */
#include "err.h"

const char *mc_strerror(int err)
{
    switch (err) {
    case MC_OK: return "success";
    case MC_ENOMEM: return "out of memory";
    case MC_EINVAL: return "invalid argument";
    case MC_EIO: return "input/output error";
    case MC_EFORMAT: return "malformed file";
    case MC_ECORRUPT: return "corrupt data";
    case MC_EVERSION: return "unsupported format version";
    case MC_ERANGE: return "out of range";
    case MC_ENOENT: return "not found";
    case MC_EBUSFAULT: return "bus fault: no device at address";
    case MC_ESTATE: return "invalid state";
    case MC_EGUEST: return "guest data inconsistent";
    case MC_EUNSUP: return "not supported";
    case MC_EDB: return "database error";
    case MC_EDIVERGE: return "replay diverged";
    }
    return "unknown error";
}
