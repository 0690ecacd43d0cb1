/*
 * yamljson: a YAML file (libyaml) as a jansson tree, so project files are
 * read with one API. Scalars stay strings except plain true/false/null and
 * numbers, as YAML 1.2's core schema reads them; anchors and aliases are
 * refused (a project file has no use for them).
 */
#ifndef YAMLJSON_H
#define YAMLJSON_H

#include <jansson.h>
#include "base/tn_err.h"

/* Parse `path`; *out is a new reference (an empty object for an empty
 * file). Errors name the file and line. */
int tf_yaml_load(const char *path, json_t **out, struct tn_err *err);

#endif
