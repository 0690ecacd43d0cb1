/*
 * store_xml.c - just enough XML for S3's answers (ListBucketResult, Error,
 * InitiateMultipartUploadResult, CompleteMultipartUploadResult,
 * DeleteResult): flat documents of known elements without CDATA or nested
 * elements of the same name. Finding an element by name and decoding its
 * text is all we need; a full parser would be one more library to own.
 */
#include "base/compat.h"
#include "store/store_s3_int.h"

/* p points at '<'; skip "<?...?>", "<!--...-->" and "<!...>"; return the
 * offset after it, or 0 if it is none of those. */
static size_t skip_meta(const char *p, size_t n)
{
	const char *end = NULL;

	if (n >= 4 && !strncmp(p, "<!--", 4))
		end = memmem(p, n, "-->", 3);
	else if (n >= 2 && (p[1] == '?' || p[1] == '!'))
		end = memchr(p, '>', n);
	else
		return 0;
	if (!end)
		return n;
	return (size_t)(end - p) + (p[1] == '!' && p[2] == '-' ? 3 : 1);
}

void store_xml_root(const char *p, size_t n, char *out, size_t cap)
{
	size_t i = 0, len;

	out[0] = '\0';
	while (i < n) {
		size_t skip;

		if (p[i] != '<') {
			i++;
			continue;
		}
		skip = skip_meta(p + i, n - i);
		if (skip) {
			i += skip;
			continue;
		}
		i++;
		for (len = 0; i + len < n && !strchr(" \t\r\n/>", p[i + len]); len++)
			;
		if (len >= cap)
			len = cap - 1;
		memcpy(out, p + i, len);
		out[len] = '\0';
		return;
	}
}

size_t store_xml_next(const char *p, size_t n, const char *tag, const char **body, size_t *blen)
{
	size_t tlen = strlen(tag), i = 0;

	while (i + tlen + 2 <= n) {
		const char *lt = memchr(p + i, '<', n - i);
		size_t at, gt;
		char c;

		if (!lt)
			return 0;
		at = (size_t)(lt - p);
		i = at + 1;
		if (at + 1 + tlen >= n || strncmp(lt + 1, tag, tlen))
			continue;
		c = lt[1 + tlen];
		if (c != '>' && c != '/' && c != ' ' && c != '\t' && c != '\r' && c != '\n')
			continue; /* <KeyCount> is not <Key> */
		lt = memchr(p + at, '>', n - at);
		if (!lt)
			return 0;
		gt = (size_t)(lt - p);
		if (p[gt - 1] == '/') { /* <Tag/> */
			*body = p + gt + 1;
			*blen = 0;
			return gt + 1;
		}
		{
			char close[80];
			const char *end;

			if (tlen + 4 > sizeof(close))
				return 0;
			snprintf(close, sizeof(close), "</%s>", tag);
			end = memmem(p + gt + 1, n - gt - 1, close, tlen + 3);
			if (!end)
				return 0;
			*body = p + gt + 1;
			*blen = (size_t)(end - *body);
			return (size_t)(end - p) + tlen + 3;
		}
	}
	return 0;
}

static void add_utf8(struct tn_buf *b, unsigned long cp)
{
	char u[4];

	if (cp < 0x80) {
		tn_buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		tn_buf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		tn_buf_add(b, u, 3);
	} else if (cp < 0x110000) {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		tn_buf_add(b, u, 4);
	}
}

/* Decode the entity at p ("&amp;" ...); returns its length, 0 if unknown. */
static size_t decode_entity(struct tn_buf *b, const char *p, size_t n)
{
	static const struct { const char *name; char c; } named[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
	};
	const char *semi = memchr(p, ';', n < 12 ? n : 12);
	size_t i;

	if (!semi)
		return 0;
	for (i = 0; i < TN_ARRAY_LEN(named); i++) {
		size_t l = strlen(named[i].name);
		if (l <= n && !strncmp(p, named[i].name, l)) {
			tn_buf_addc(b, named[i].c);
			return l;
		}
	}
	if (p[1] == '#') {
		char num[12], *end;
		int hex = p[2] == 'x' || p[2] == 'X';
		size_t len = (size_t)(semi - p) - 2 - (size_t)hex;
		unsigned long cp;

		if (len == 0 || len >= sizeof(num))
			return 0;
		memcpy(num, p + 2 + hex, len);
		num[len] = '\0';
		cp = strtoul(num, &end, hex ? 16 : 10);
		if (*end)
			return 0;
		add_utf8(b, cp);
		return (size_t)(semi - p) + 1;
	}
	return 0;
}

int store_xml_text(const char *p, size_t n, const char *tag, struct tn_buf *b)
{
	const char *body;
	size_t blen, i;

	if (!store_xml_next(p, n, tag, &body, &blen))
		return -1;
	for (i = 0; i < blen; i++) {
		size_t used = body[i] == '&' ? decode_entity(b, body + i, blen - i) : 0;
		if (used)
			i += used - 1;
		else
			tn_buf_addc(b, body[i]);
	}
	return 0;
}

void store_xml_escape(struct tn_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': tn_buf_adds(b, "&amp;"); break;
		case '<': tn_buf_adds(b, "&lt;"); break;
		case '>': tn_buf_adds(b, "&gt;"); break;
		case '"': tn_buf_adds(b, "&quot;"); break;
		case '\'': tn_buf_adds(b, "&apos;"); break;
		default: tn_buf_addc(b, *s);
		}
	}
}
