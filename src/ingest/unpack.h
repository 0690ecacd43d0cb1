/*
 * unpack: zip and gzip archives, unpacked in place in the raw zone. The
 * only file of the ingest layer that includes zlib. Every member name is
 * checked before anything is written (no absolute path, no "..", no
 * drive letter, no control character: a "zip-slip" archive is refused
 * whole), links are refused, and CRC-32 and sizes are verified. Memory
 * stays flat: members are streamed in fixed chunks.
 */
#ifndef UNPACK_H
#define UNPACK_H

#include <stddef.h>
#include "base/tn_err.h"

enum unpack_kind { UNPACK_NONE, UNPACK_ZIP, UNPACK_GZIP };

/* What the file at `path` is, by its first bytes (not its name). */
enum unpack_kind unpack_sniff(const char *path);

/*
 * Unpack the archive `path` of kind `kind` into the folder `dest` (which
 * exists): zip members at their paths under `dest`, a gzip file as its name
 * without ".gz" (".tgz" becomes ".tar"). A file that exists already is an
 * error (TN_ECONFLICT). On failure the caller removes `dest`'s new content
 * (the raw zone does: the whole staging folder goes). *nfiles counts the
 * files written.
 */
int unpack_file(const char *path, enum unpack_kind kind, const char *dest, size_t *nfiles,
		struct tn_err *err);

/*
 * The safe relative form of an archive member name: '\' read as '/', "."
 * segments and repeated slashes dropped. *out is owned, or NULL for a
 * folder entry (name ends in '/'). TN_EINVAL, naming the member, for
 * names that would leave the folder or cannot be a file name.
 */
int unpack_member_path(const char *name, char **out, struct tn_err *err);

#endif
