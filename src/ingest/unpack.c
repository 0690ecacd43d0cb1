/*
 * unpack.c: a small zip reader (stored and deflate members, Zip64) and
 * gzip, on zlib. The central directory is the truth for names and sizes;
 * each local header is read only to find where its data starts.
 */
#include "base/compat.h"
#include "ingest/unpack.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>

#define CHUNK (256 * 1024)
#define MAX_MEMBER_NAME 4096

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64 0x07064b50u

/* ---- member names ---- */

static int bad_name(const char *name, const char *why, struct tn_err *err)
{
	return tn_err_set(err, TN_EINVAL, "archive member '%.200s' %s; the archive was not unpacked "
			  "and nothing was stored", name, why);
}

int unpack_member_path(const char *name, char **out, struct tn_err *err)
{
	struct tn_buf b = TN_BUF_INIT(MAX_MEMBER_NAME);
	const char *p = name;
	size_t n = strlen(name);
	int dir = n > 0 && (name[n - 1] == '/' || name[n - 1] == '\\');

	*out = NULL;
	if (n == 0)
		return bad_name(name, "has an empty name", err);
	for (p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return bad_name(name, "has a control character in its name", err);
	if (name[0] == '/' || name[0] == '\\')
		return bad_name(name, "is an absolute path", err);
	if (((name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z') && name[1] == ':')
		return bad_name(name, "starts with a drive letter", err);
	for (p = name; *p;) {
		size_t len = strcspn(p, "/\\");
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			tn_buf_release(&b);
			return bad_name(name, "has a '..' segment (it would land outside the folder)", err);
		}
		if (len && !(len == 1 && p[0] == '.')) {
			if (b.len)
				tn_buf_addc(&b, '/');
			tn_buf_add(&b, p, len);
		}
		p += len;
		while (*p == '/' || *p == '\\')
			p++;
	}
	if (b.failed) {
		tn_buf_release(&b);
		return bad_name(name, "has a name that is too long", err);
	}
	if (dir || b.len == 0) {
		tn_buf_release(&b);
		return 0;
	}
	*out = tn_buf_detach(&b, NULL);
	return 0;
}

/* ---- reading helpers ---- */

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32);
}

/* Read exactly n bytes at off; 0, or -1 on a short read or error. */
static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = pread(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

enum unpack_kind unpack_sniff(const char *path)
{
	unsigned char m[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	enum unpack_kind k = UNPACK_NONE;

	if (fd < 0)
		return UNPACK_NONE;
	if (read_at(fd, m, 4, 0) == 0) {
		if (get32(m) == SIG_LOCAL || get32(m) == SIG_EOCD)
			k = UNPACK_ZIP;
		else if (m[0] == 0x1f && m[1] == 0x8b)
			k = UNPACK_GZIP;
	}
	close(fd);
	return k;
}

/* ---- zip ---- */

struct zip {
	int fd;
	const char *path;      /* for messages */
	uint64_t size;
	uint64_t entries, cd_off, cd_size;
};

struct member {
	char *name;            /* as stored */
	uint16_t flags, method, made_by;
	uint32_t crc, attr;
	uint64_t csize, usize, local_off;
};

static int corrupt(const struct zip *z, const char *what, struct tn_err *err)
{
	return tn_err_set(err, TN_EINVAL, "%s is not a readable zip archive (%s); nothing was stored",
			  z->path, what);
}

/* Zip64 end record, when the classic one says "see Zip64". */
static int read_eocd64(struct zip *z, uint64_t eocd_at, struct tn_err *err)
{
	unsigned char loc[20], rec[56];

	if (eocd_at < 20 || read_at(z->fd, loc, 20, eocd_at - 20) || get32(loc) != SIG_LOC64)
		return corrupt(z, "Zip64 locator missing", err);
	if (read_at(z->fd, rec, 56, get64(loc + 8)) || get32(rec) != SIG_EOCD64)
		return corrupt(z, "Zip64 end record missing", err);
	z->entries = get64(rec + 32);
	z->cd_size = get64(rec + 40);
	z->cd_off = get64(rec + 48);
	return 0;
}

/* The end-of-central-directory record is in the last 64 KiB + 22 bytes. */
static int find_eocd(struct zip *z, struct tn_err *err)
{
	size_t span = z->size < 65557 ? (size_t)z->size : 65557, i;
	unsigned char *tail;
	int rc = 0;

	if (span < 22)
		return corrupt(z, "too short", err);
	tail = tn_malloc(span);
	if (read_at(z->fd, tail, span, z->size - span)) {
		tn_free(tail);
		return tn_err_set(err, TN_EIO, "cannot read %s: %s", z->path, strerror(errno));
	}
	for (i = span - 22 + 1; i-- > 0;)
		if (get32(tail + i) == SIG_EOCD)
			break;
	if (i == (size_t)-1) {
		tn_free(tail);
		return corrupt(z, "no end of central directory", err);
	}
	z->entries = get16(tail + i + 10);
	z->cd_size = get32(tail + i + 12);
	z->cd_off = get32(tail + i + 16);
	if (z->entries == 0xffff || z->cd_size == 0xffffffffu || z->cd_off == 0xffffffffu)
		rc = read_eocd64(z, z->size - span + i, err);
	tn_free(tail);
	if (!rc && (z->cd_off > z->size || z->cd_size > z->size - z->cd_off))
		rc = corrupt(z, "central directory out of bounds", err);
	return rc;
}

/* Fields that do not fit 32 bits live in the Zip64 extra field, in order. */
static void zip64_extra(struct member *m, const unsigned char *x, size_t n, uint32_t csize32,
			uint32_t usize32, uint32_t off32)
{
	while (n >= 4) {
		uint16_t id = get16(x), len = get16(x + 2);
		const unsigned char *p = x + 4;
		size_t left = len;
		if ((size_t)len + 4 > n)
			return;
		if (id == 0x0001) {
			if (usize32 == 0xffffffffu && left >= 8) {
				m->usize = get64(p);
				p += 8;
				left -= 8;
			}
			if (csize32 == 0xffffffffu && left >= 8) {
				m->csize = get64(p);
				p += 8;
				left -= 8;
			}
			if (off32 == 0xffffffffu && left >= 8)
				m->local_off = get64(p);
			return;
		}
		x += 4 + len;
		n -= 4 + (size_t)len;
	}
}

/* Parse the central header at cd[*pos]; advances *pos. */
static int parse_member(const struct zip *z, const unsigned char *cd, size_t cd_len, size_t *pos,
			struct member *m, struct tn_err *err)
{
	const unsigned char *h = cd + *pos;
	size_t nl, xl, cl;
	uint32_t csize32, usize32, off32;

	if (cd_len - *pos < 46 || get32(h) != SIG_CENTRAL)
		return corrupt(z, "bad central directory entry", err);
	nl = get16(h + 28);
	xl = get16(h + 30);
	cl = get16(h + 32);
	if (cd_len - *pos - 46 < nl + xl + cl)
		return corrupt(z, "central directory entry out of bounds", err);
	memset(m, 0, sizeof(*m));
	m->made_by = get16(h + 4);
	m->flags = get16(h + 8);
	m->method = get16(h + 10);
	m->crc = get32(h + 16);
	csize32 = get32(h + 20);
	usize32 = get32(h + 24);
	m->attr = get32(h + 38);
	off32 = get32(h + 42);
	m->csize = csize32;
	m->usize = usize32;
	m->local_off = off32;
	zip64_extra(m, h + 46 + nl, xl, csize32, usize32, off32);
	m->name = tn_strndup((const char *)h + 46, nl);
	*pos += 46 + nl + xl + cl;
	return 0;
}

static int is_link(const struct member *m)
{
	/* Unix "made by" hosts keep st_mode in the high 16 bits. */
	return (m->made_by >> 8) == 3 && ((m->attr >> 16) & S_IFMT) == S_IFLNK;
}

/* Check a member before anything is written: name, kind, method. */
static int check_member(const struct zip *z, const struct member *m, char **rel, struct tn_err *err)
{
	int rc = unpack_member_path(m->name, rel, err);

	if (rc)
		return rc;
	if (!*rel)
		return 0;
	if (is_link(m))
		rc = bad_name(m->name, "is a symbolic link", err);
	else if (m->flags & 1)
		rc = tn_err_set(err, TN_EUNSUPPORTED, "%s: member '%.200s' is encrypted; decrypt the "
				"archive first (nothing was stored)", z->path, m->name);
	else if (m->method != 0 && m->method != 8)
		rc = tn_err_set(err, TN_EUNSUPPORTED, "%s: member '%.200s' uses compression method %u; "
				"only stored and deflate are supported (repack it as a plain zip)",
				z->path, m->name, m->method);
	if (rc) {
		tn_free(*rel);
		*rel = NULL;
	}
	return rc;
}

static int data_offset(const struct zip *z, const struct member *m, uint64_t *off, struct tn_err *err)
{
	unsigned char h[30];

	if (read_at(z->fd, h, 30, m->local_off) || get32(h) != SIG_LOCAL)
		return corrupt(z, "bad local header", err);
	*off = m->local_off + 30 + get16(h + 26) + get16(h + 28);
	if (*off > z->size || m->csize > z->size - *off)
		return corrupt(z, "member data out of bounds", err);
	return 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Stream one member's data (stored or deflate) into `out`, checking CRC-32
 * and size. */
static int copy_member(const struct zip *z, const struct member *m, uint64_t off, int out,
		       const char *dest, struct tn_err *err)
{
	unsigned char *in = tn_malloc(CHUNK), *buf = tn_malloc(CHUNK);
	uint64_t left = m->csize, written = 0;
	uLong crc = crc32(0L, Z_NULL, 0);
	z_stream zs;
	int rc = 0, zr = Z_OK;

	memset(&zs, 0, sizeof(zs));
	if (m->method == 8 && inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
		tn_free(in);
		tn_free(buf);
		return tn_err_set(err, TN_ENOMEM, "cannot start inflating %s", z->path);
	}
	while (!rc && left > 0 && zr != Z_STREAM_END) {
		size_t n = left < CHUNK ? (size_t)left : CHUNK;
		if (read_at(z->fd, in, n, off)) {
			rc = corrupt(z, "member data truncated", err);
			break;
		}
		off += n;
		left -= n;
		if (m->method == 0) {
			crc = crc32(crc, in, (uInt)n);
			written += n;
			if (write_all(out, in, n))
				rc = tn_err_set(err, TN_EIO, "cannot write %s: %s", dest, strerror(errno));
			continue;
		}
		zs.next_in = in;
		zs.avail_in = (uInt)n;
		do {
			size_t got;
			zs.next_out = buf;
			zs.avail_out = CHUNK;
			zr = inflate(&zs, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
				rc = corrupt(z, "bad deflate data", err);
				break;
			}
			got = CHUNK - zs.avail_out;
			crc = crc32(crc, buf, (uInt)got);
			written += got;
			if (written > m->usize) {
				rc = corrupt(z, "member larger than its recorded size", err);
				break;
			}
			if (write_all(out, buf, got)) {
				rc = tn_err_set(err, TN_EIO, "cannot write %s: %s", dest, strerror(errno));
				break;
			}
		} while (zs.avail_out == 0 && zr != Z_STREAM_END);
	}
	if (m->method == 8)
		inflateEnd(&zs);
	tn_free(in);
	tn_free(buf);
	if (!rc && (written != m->usize || crc != m->crc))
		rc = tn_err_set(err, TN_EINVAL, "%s: member '%.200s' fails its CRC-32 or size check; the "
				"archive is damaged (nothing was stored)", z->path, m->name);
	return rc;
}

/* Create dest/rel (and its folders) and fill it from the member. */
static int extract(const struct zip *z, const struct member *m, const char *rel, const char *dest,
		   struct tn_err *err)
{
	char *path = tn_fs_join(dest, rel), *slash;
	uint64_t off = 0;
	int fd = -1, rc = data_offset(z, m, &off, err);

	slash = strrchr(path, '/');
	if (!rc && slash) {
		*slash = '\0';
		rc = tn_fs_mkdirs(path, err);
		*slash = '/';
	}
	if (!rc) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
		if (fd < 0)
			rc = tn_err_set(err, errno == EEXIST ? TN_ECONFLICT : TN_EIO,
					"cannot create %s from %s: %s", path, z->path,
					errno == EEXIST ? "the archive holds that name twice, or a file of "
					"that name is already there" : strerror(errno));
	}
	if (!rc)
		rc = copy_member(z, m, off, fd, path, err);
	if (fd >= 0 && fsync(fd) != 0 && !rc)
		rc = tn_err_set(err, TN_EIO, "fsync %s failed: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	tn_free(path);
	return rc;
}

static void members_free(struct member *ms, char **rels, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		tn_free(ms[i].name);
		tn_free(rels[i]);
	}
	tn_free(ms);
	tn_free(rels);
}

/* Two passes: every member is checked first, so a bad name anywhere means
 * not one file is written. */
static int unzip(struct zip *z, const char *dest, size_t *nfiles, struct tn_err *err)
{
	unsigned char *cd = NULL;
	struct member *ms = NULL;
	char **rels = NULL;
	size_t i, n = 0, alloc = 0, pos = 0;
	int rc = find_eocd(z, err);

	if (!rc && z->cd_size > (uint64_t)1 << 30)
		rc = corrupt(z, "central directory larger than 1 GiB", err);
	if (!rc) {
		cd = tn_malloc(z->cd_size ? (size_t)z->cd_size : 1);
		if (read_at(z->fd, cd, (size_t)z->cd_size, z->cd_off))
			rc = corrupt(z, "central directory truncated", err);
	}
	while (!rc && pos < z->cd_size && n < z->entries) {
		TN_GROW(ms, alloc, n + 1);
		rels = tn_realloc(rels, alloc * sizeof(*rels));
		rels[n] = NULL;
		rc = parse_member(z, cd, (size_t)z->cd_size, &pos, &ms[n], err);
		if (rc)
			break;
		n++;
		rc = check_member(z, &ms[n - 1], &rels[n - 1], err);
	}
	for (i = 0; !rc && i < n; i++) {
		if (!rels[i])
			continue;
		rc = extract(z, &ms[i], rels[i], dest, err);
		if (!rc)
			(*nfiles)++;
	}
	members_free(ms, rels, n);
	tn_free(cd);
	return rc;
}

/* ---- gzip ---- */

/* "x.csv.gz" -> "x.csv", "x.tgz" -> "x.tar", anything else + ".out". */
static char *gunzip_name(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 3 && !strcasecmp(base + n - 3, ".gz"))
		return tn_strndup(base, n - 3);
	if (n > 4 && !strcasecmp(base + n - 4, ".tgz"))
		return tn_xprintf("%.*s.tar", (int)(n - 4), base);
	return tn_xprintf("%s.out", base);
}

static int gunzip(const char *path, const char *dest, size_t *nfiles, struct tn_err *err)
{
	char *name = gunzip_name(path), *out = tn_fs_join(dest, name);
	unsigned char *buf = tn_malloc(CHUNK);
	int fd = -1, n, rc = 0;
	gzFile gz = gzopen(path, "rb");

	if (!gz)
		rc = tn_err_set(err, TN_EIO, "cannot read %s: %s", path, strerror(errno));
	if (!rc) {
		gzbuffer(gz, CHUNK);
		fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
		if (fd < 0)
			rc = tn_err_set(err, errno == EEXIST ? TN_ECONFLICT : TN_EIO, "cannot create %s: %s",
					out, strerror(errno));
	}
	while (!rc && (n = gzread(gz, buf, CHUNK)) != 0) {
		int zerr = Z_OK;
		if (n < 0) {
			const char *m = gzerror(gz, &zerr);
			rc = tn_err_set(err, TN_EINVAL, "%s is not a readable gzip file (%s); nothing was stored",
					path, m ? m : "bad data");
		} else if (write_all(fd, buf, (size_t)n)) {
			rc = tn_err_set(err, TN_EIO, "cannot write %s: %s", out, strerror(errno));
		}
	}
	if (fd >= 0 && fsync(fd) != 0 && !rc)
		rc = tn_err_set(err, TN_EIO, "fsync %s failed: %s", out, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (gz)
		gzclose(gz);
	if (!rc)
		(*nfiles)++;
	tn_free(buf);
	tn_free(out);
	tn_free(name);
	return rc;
}

int unpack_file(const char *path, enum unpack_kind kind, const char *dest, size_t *nfiles,
		struct tn_err *err)
{
	struct zip z = { -1, path, 0, 0, 0, 0 };
	struct stat st;
	int rc;

	*nfiles = 0;
	/* zlib would pass non-gzip bytes through unchanged: check first. */
	if (kind == UNPACK_GZIP && unpack_sniff(path) != UNPACK_GZIP)
		return tn_err_set(err, TN_EINVAL, "%s is not a readable gzip file (it does not start like "
				  "one); nothing was stored", path);
	if (kind == UNPACK_GZIP)
		return gunzip(path, dest, nfiles, err);
	if (kind != UNPACK_ZIP)
		return tn_err_set(err, TN_EINTERNAL, "unpack: %s is not an archive", path);
	z.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (z.fd < 0 || fstat(z.fd, &st) != 0) {
		rc = tn_err_set(err, TN_EIO, "cannot read %s: %s", path, strerror(errno));
		if (z.fd >= 0)
			close(z.fd);
		return rc;
	}
	z.size = (uint64_t)st.st_size;
	rc = unzip(&z, dest, nfiles, err);
	close(z.fd);
	return rc;
}
