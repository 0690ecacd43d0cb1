/*
 * docs: `tarn docs`, a static HTML page for a project (models, columns,
 * tests, SQL, lineage as inline SVG, last run from tarn_meta).
 */
#ifndef DOCS_H
#define DOCS_H

#include "base/tn_err.h"
#include "transform/project.h"

struct session;

/* Write the page to `path` (folders made); ss may be NULL (no run info). */
int tf_docs_write(const struct tf_project *p, struct session *ss, const char *path, struct tn_err *err);

#endif
