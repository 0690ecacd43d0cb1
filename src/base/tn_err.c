/* tn_err: first-error-wins error records. */
#include "base/compat.h"
#include "base/tn_err.h"

int tn_err_set(struct tn_err *e, enum tn_code code, const char *fmt, ...)
{
	va_list ap;

	if (!e || e->code != TN_OK)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

void tn_err_prefix(struct tn_err *e, const char *fmt, ...)
{
	char head[256], old[sizeof(e->msg)];
	va_list ap;

	if (!e || e->code == TN_OK)
		return;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	size_t hn = strlen(head);

	memcpy(old, e->msg, sizeof(old));
	/* Copy by hand: snprintf("%s: %s") would warn about truncation we accept. */
	if (hn + 2 >= sizeof(e->msg))
		return;
	memcpy(e->msg, head, hn);
	memcpy(e->msg + hn, ": ", 2);
	memcpy(e->msg + hn + 2, old, sizeof(e->msg) - hn - 3);
	e->msg[sizeof(e->msg) - 1] = '\0';
}

void tn_err_clear(struct tn_err *e)
{
	e->code = TN_OK;
	e->msg[0] = '\0';
}

const char *tn_code_name(enum tn_code code)
{
	switch (code) {
	case TN_OK: return "ok";
	case TN_ENOMEM: return "out of memory";
	case TN_EINVAL: return "invalid input";
	case TN_EIO: return "i/o error";
	case TN_ENOTFOUND: return "not found";
	case TN_ECONFLICT: return "conflict";
	case TN_EREMOTE: return "remote error";
	case TN_EINTERNAL: return "internal error";
	case TN_EUNSUPPORTED: return "not supported";
	}
	return "unknown error";
}
