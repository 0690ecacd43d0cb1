/*
 * remote: the dataset hubs as sources of the raw zone.
 *
 * Kaggle: https://www.kaggle.com/datasets/<owner>/<dataset>[/versions/<n>]
 * (or kaggle:<owner>/<dataset>) is downloaded as one zip through Kaggle's
 * public API, GET <base>/api/v1/datasets/download/<owner>/<dataset>, with
 * basic auth from KAGGLE_USERNAME/KAGGLE_KEY, else
 * $KAGGLE_CONFIG_DIR/kaggle.json or ~/.kaggle/kaggle.json.
 * <base> is $TARN_KAGGLE_URL, default https://www.kaggle.com.
 *
 * Hugging Face: https://huggingface.co/datasets/<owner>/<dataset> (or
 * hf:<owner>/<dataset>) is listed through GET <base>/api/datasets/<id>
 * and every file but .gitattributes is fetched from
 * <base>/datasets/<id>/resolve/main/<path>, with "Authorization: Bearer
 * $HF_TOKEN" when HF_TOKEN is set. <base> is $TARN_HF_URL, default
 * https://huggingface.co.
 *
 * Keys and tokens go in request headers only, never in a message.
 */
#ifndef REMOTE_H
#define REMOTE_H

#include "base/tn_err.h"
#include "ingest/fetch.h"

enum remote_kind { REMOTE_NONE, REMOTE_KAGGLE, REMOTE_HF };

struct remote_ref {
	enum remote_kind kind;
	char *owner;    /* NULL for Hugging Face datasets without one */
	char *name;     /* the dataset slug on the hub */
	char *version;  /* Kaggle version number, or NULL for the newest */
};

/* Recognise a hub URL: ref->kind is REMOTE_NONE when `source` is none
 * (ref holds nothing then). TN_EINVAL when it is a hub URL that names no
 * dataset. Release ref with remote_ref_release either way. */
int remote_parse(const char *source, struct remote_ref *ref, struct tn_err *err);
void remote_ref_release(struct remote_ref *ref);

/* Download the dataset's files into the folder `dir` (which exists).
 * Kaggle leaves one zip there for the caller to unpack. */
int remote_fetch(const struct remote_ref *ref, const char *dir, const struct fetch_req *how,
		 struct tn_err *err);

#endif
