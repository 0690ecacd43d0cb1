/*
 * openapi.c: GET /openapi.json, the OpenAPI 3 description of every
 * endpoint, and GET /docs, a page that renders it with a few lines of
 * inline JavaScript (no network). The JSON is written with single quotes
 * so it reads in C; they become double quotes once, at first use (no text
 * below holds an apostrophe).
 */
#include "base/compat.h"
#include "server/srv_int.h"
#include "base/tn_mem.h"

#define ERR "'400':{'$ref':'#/components/responses/Error'},'401':{'$ref':'#/components/responses/Error'}," \
	"'403':{'$ref':'#/components/responses/Error'}"
#define RESULT "'200':{'description':'a result','content':{'application/json':{'schema':" \
	"{'$ref':'#/components/schemas/Result'}}}}"
#define TABLE_PARAM "{'name':'table','in':'path','required':true,'schema':{'type':'string'}," \
	"'description':'SCHEMA.TABLE'}"

static const char spec[] =
	"{'openapi':'3.0.3','info':{'title':'tarn','version':'1','description':"
	"'The HTTP API of a tarn lake. Send Authorization: Bearer TOKEN. Roles: reader (queries and catalog "
	"reads; one SELECT per query, on a DuckDB that cannot write the lake or touch other files), writer "
	"(+ uploads, loads, exports, SQL that writes), admin (+ backups, fsck, maintenance). Errors are "
	"{error: {code, message}}.'},"
	"'components':{'securitySchemes':{'bearer':{'type':'http','scheme':'bearer'}},"
	"'responses':{'Error':{'description':'an error','content':{'application/json':{'schema':"
	"{'$ref':'#/components/schemas/Error'}}}}},"
	"'schemas':{"
	"'Error':{'type':'object','properties':{'error':{'type':'object','properties':{'code':{'type':'string'},"
	"'message':{'type':'string'}}}}},"
	"'Result':{'type':'object','properties':{'columns':{'type':'array','items':{'type':'object','properties':"
	"{'name':{'type':'string'},'type':{'type':'string'}}}},'rows':{'type':'array','items':{'type':'array'}},"
	"'row_count':{'type':'integer'},'truncated':{'type':'boolean'}}},"
	"'Query':{'type':'object','required':['sql'],'properties':{"
	"'sql':{'type':'string','description':'one SELECT for readers; AT (VERSION => n) works on any table'},"
	"'params':{'description':'values for $1, $2 or ? (an array) or $name (an object)','oneOf':"
	"[{'type':'array'},{'type':'object'}]},"
	"'at':{'type':'object','description':'read every table at this snapshot','properties':"
	"{'version':{'type':'integer'},'timestamp':{'type':'string'}}},"
	"'limit':{'type':'integer','description':'most rows returned (the server caps it too)'}}},"
	"'Upload':{'type':'object','properties':{'dataset':{'type':'string'},'version':{'type':'string'},"
	"'files':{'type':'array','items':{'type':'string'}},'bytes':{'type':'integer'},"
	"'loaded':{'type':'array','items':{'type':'object'}}}}}},"
	"'security':[{'bearer':[]}],'paths':{"
	"'/v1/health':{'get':{'summary':'Liveness and version','security':[],'responses':{'200':"
	"{'description':'ok'}}}},"
	"'/v1/query':{'post':{'summary':'Run SQL. JSON (columns with types, rows), CSV (Accept: text/csv) or "
	"Parquet (Accept: application/vnd.apache.parquet), streamed; a row cap and a time limit apply',"
	"'requestBody':{'required':true,'content':{'application/json':{'schema':{'$ref':"
	"'#/components/schemas/Query'}}}},'responses':{" RESULT ",'413':{'description':'body too large'},"
	"'504':{'description':'the query ran past the time limit'}," ERR "}}},"
	"'/v1/datasets/{name}/files':{'post':{'summary':'Upload files as a new raw version of a dataset (writer). "
	"A raw body named by ?filename=, or multipart/form-data (one file per part); ?load=SCHEMA.TABLE&"
	"mode=create|append|replace also loads the version','parameters':[{'name':'name','in':'path',"
	"'required':true,'schema':{'type':'string'},'description':'snake case'},{'name':'filename','in':'query',"
	"'schema':{'type':'string'}},{'name':'load','in':'query','schema':{'type':'string'}},{'name':'mode',"
	"'in':'query','schema':{'type':'string','enum':['create','append','replace']}}],"
	"'requestBody':{'content':{'application/octet-stream':{},'multipart/form-data':{}}},"
	"'responses':{'201':{'description':'landed','content':{'application/json':{'schema':{'$ref':"
	"'#/components/schemas/Upload'}}}},'413':{'description':'over the upload limit; nothing kept'},"
	"'422':{'description':'landed, but the load failed'}," ERR "}}},"
	"'/v1/datasets':{'get':{'summary':'Raw datasets, every version','responses':{'200':{'description':"
	"'{versions: [...]}'}," ERR "}}},"
	"'/v1/tables':{'get':{'summary':'Tables and views with rows, files, size and comment','responses':{"
	RESULT "," ERR "}}},"
	"'/v1/tables/{table}':{'get':{'summary':'Columns of a table: types, comments, stats','parameters':["
	TABLE_PARAM "],'responses':{" RESULT ",'404':{'description':'no such table'}," ERR "}}},"
	"'/v1/tables/{table}/snapshots':{'get':{'summary':'Snapshots that changed a table','parameters':["
	TABLE_PARAM "],'responses':{" RESULT "," ERR "}}},"
	"'/v1/snapshots':{'get':{'summary':'Every snapshot of the lake','responses':{" RESULT "," ERR "}}},"
	"'/v1/exports':{'get':{'summary':'Exported datasets (?all=1 for every version)','responses':{'200':"
	"{'description':'{exports: [...]}'}," ERR "}},"
	"'post':{'summary':'Export the tables of a schema (writer)','requestBody':{'content':{'application/json':"
	"{'schema':{'type':'object','required':['domain','schema'],'properties':{'domain':{'type':'string'},"
	"'schema':{'type':'string'},'tables':{'type':'array','items':{'type':'string'}},'format':{'type':"
	"'string','enum':['parquet','csv','json']},'at':{'type':'integer'}}}}}},'responses':{'201':"
	"{'description':'the new version'}," ERR "}}},"
	"'/v1/admin/backups':{'get':{'summary':'Catalog backups, oldest first (admin)','responses':{'200':"
	"{'description':'{backups: [{version, created, path, bytes, snapshot, sha256, catalog, latest}]}'}," ERR "}},"
	"'post':{'summary':'Take a catalog backup now, while the lake is in use (admin)','responses':{'201':"
	"{'description':'the new backup'}," ERR "}}},"
	"'/v1/admin/fsck':{'post':{'summary':'Check that the catalog and the data files agree (admin)',"
	"'responses':{'200':{'description':'{ok, snapshots, tables, files, problems: [...], orphans: [...]}'},"
	ERR "}}},"
	"'/v1/admin/maintenance':{'post':{'summary':'Compact tables, expire snapshots, delete scheduled files "
	"(admin)','requestBody':{'content':{'application/json':{'schema':{'type':'object','required':['action'],"
	"'properties':{'action':{'type':'string','enum':['compact','expire','cleanup','all']},'table':{'type':"
	"'string'},'min_files':{'type':'integer'},'older_than':{'type':'string','description':'7d, 12h or a UTC "
	"time'},'keep':{'type':'integer'},'dry_run':{'type':'boolean'}}}}}},'responses':{'200':{'description':"
	"'what was done (or would be, with dry_run)'}," ERR "}}},"
	"'/metrics':{'get':{'summary':'Prometheus metrics: requests, latencies, queries, commits, uploads',"
	"'security':[],'responses':{'200':{'description':'text/plain'}}}},"
	"'/openapi.json':{'get':{'summary':'This description','security':[],'responses':{'200':"
	"{'description':'OpenAPI 3'}}}},"
	"'/docs':{'get':{'summary':'This description as a page','security':[],'responses':{'200':"
	"{'description':'HTML'}}}}}}";

static const char page[] =
	"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>tarn API</title><style>"
	"body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}code{background:#eee;padding:0 4px}"
	"h2{font-size:1.1em;margin:1.5em 0 .3em}.m{font-weight:bold;color:#05a}pre{background:#f6f6f6;"
	"padding:.5em;overflow:auto}</style></head><body><h1>tarn API</h1><p id=\"d\"></p><div id=\"p\"></div>"
	"<script>"
	"function t(e,s){const x=document.createElement(e);x.textContent=s;return x}"
	"fetch('/openapi.json').then(r=>r.json()).then(d=>{document.getElementById('d').textContent="
	"d.info.description;const p=document.getElementById('p');"
	"for(const [u,ops] of Object.entries(d.paths))for(const [m,o] of Object.entries(ops)){"
	"const h=document.createElement('h2');const s=t('span',m.toUpperCase()+' ');s.className='m';"
	"h.appendChild(s);h.appendChild(t('code',u));p.appendChild(h);p.appendChild(t('p',o.summary||''));"
	"if(o.parameters)p.appendChild(t('p','parameters: '+o.parameters.map(x=>x.name+' ('+x.in+')').join(', ')));"
	"if(o.requestBody)p.appendChild(t('pre',JSON.stringify(o.requestBody.content,null,1)));"
	"p.appendChild(t('p','responses: '+Object.entries(o.responses).map(([k,v])=>k+' '+(v.description||"
	"(v.$ref||'').split('/').pop())).join('; ')));}});"
	"</script></body></html>";

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char *json_text;

static void make(void)
{
	char *p;

	json_text = tn_strdup(spec);
	for (p = json_text; *p; p++)
		if (*p == '\'')
			*p = '"';
}

const char *srv_openapi(void)
{
	pthread_once(&once, make);
	return json_text;
}

const char *srv_docs_page(void)
{
	return page;
}
