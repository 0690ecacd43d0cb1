#!/usr/bin/env node
/*
 * s3proxy.js - a fault-injecting HTTP proxy between tarn and an S3 server
 * (s3rver in the tests), on loopback only.
 *
 *   node s3proxy.js --upstream 127.0.0.1:PORT --port-file F --rules R --log L
 *                   [--access KEY --secret SECRET]
 *
 * Every request is checked against the rules file R (JSON, re-read on each
 * request so a test can change it between commands), a JSON array of
 *   {"method": "PUT", "key": "part of the decoded path", "query": "part of
 *    the query", "fault": NAME, "times": N, "skip": N, "ms": N}
 * ("method"/"key"/"query" default to any; "times" to always; "skip" lets
 * the first N matches through). Faults:
 *   500, 503 (SlowDown), 429, 403  an S3 <Error> answer, nothing forwarded
 *   delay      wait `ms` (default 1000), then forward
 *   stall      never answer (the client's read timeout must fire)
 *   stall-body forward, send the headers and half the body, then stall
 *   truncate   forward, send the full Content-Length but half the body, close
 *   reset      reset the connection without an answer
 *   error200   200 OK with an <Error><Code>InternalError</Code> body
 *   delete-partial  200 OK with a DeleteResult listing one <Error> key
 * One JSON line per request goes to the log L as it arrives: method, key,
 * query, fault, sig ("ok", "bad", "none"), so tests can count attempts.
 *
 * With --secret the proxy also verifies AWS SigV4 signatures the way S3
 * does (s3rver 3.7 checks only the key id): it re-encodes the decoded path
 * and query canonically, so a client that encodes a key wrongly or signs
 * with the wrong secret gets 403 SignatureDoesNotMatch, as from AWS.
 */
'use strict';
const http = require('http');
const fs = require('fs');
const crypto = require('crypto');

function args() {
	const a = {};
	for (let i = 2; i < process.argv.length; i += 2)
		a[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
	if (!a.upstream || !a['port-file'])
		throw new Error('usage: s3proxy.js --upstream HOST:PORT --port-file F [--rules R] [--log L] [--access K --secret S]');
	return a;
}
const opt = args();
const [upHost, upPort] = opt.upstream.split(':');
const counts = new Map();

/* The rules, and the shot counts reset whenever the file is rewritten
 * (a test writes {"gen": N, "rules": [...]} with a new N each time; a plain
 * array is also accepted). */
let gen = null;
function rules() {
	let doc = [];
	if (!opt.rules)
		return [];
	try {
		doc = JSON.parse(fs.readFileSync(opt.rules, 'utf8') || '[]');
	} catch (e) {
		return [];
	}
	const g = Array.isArray(doc) ? null : doc.gen;
	if (g !== gen) {
		gen = g;
		counts.clear();
	}
	return Array.isArray(doc) ? doc : doc.rules || [];
}

/* The first rule that matches and still has shots left, else null. */
function pick(method, key, query) {
	for (const r of rules()) {
		if (r.method && r.method !== '*' && r.method !== method)
			continue;
		if (r.key && !key.includes(r.key))
			continue;
		if (r.query && !query.includes(r.query))
			continue;
		const id = JSON.stringify(r);
		const n = counts.get(id) || 0;
		counts.set(id, n + 1);
		if (n < (r.skip || 0))
			continue;
		if (r.times !== undefined && n - (r.skip || 0) >= r.times)
			continue;
		return r;
	}
	return null;
}

function log(entry) {
	if (opt.log)
		fs.appendFileSync(opt.log, JSON.stringify(entry) + '\n');
}

/* ---- SigV4, as S3 checks it ---- */

function enc(s) {
	return encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}
function dec(s) {
	try {
		return decodeURIComponent(s);
	} catch (e) {
		return null;
	}
}
function canonicalQuery(q) {
	if (!q)
		return '';
	return q.split('&').filter(Boolean).map(p => {
		const i = p.indexOf('=');
		const k = dec(i < 0 ? p : p.slice(0, i)), v = dec(i < 0 ? '' : p.slice(i + 1));
		return [enc(k === null ? '' : k), enc(v === null ? '' : v)];
	}).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
		.map(([k, v]) => k + '=' + v).join('&');
}
function hmac(k, s) {
	return crypto.createHmac('sha256', k).update(s).digest();
}
function verify(req, path, query) {
	const auth = req.headers.authorization;
	if (!auth)
		return 'none';
	const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(auth);
	if (!m)
		return 'bad';
	const [, access, date, region, service, signed, sig] = m;
	if (opt.access && access !== opt.access)
		return 'badkey';
	const curi = path.split('/').map(s => enc(dec(s) === null ? s : dec(s))).join('/');
	const hdrs = signed.split(';').map(h => h + ':' + String(req.headers[h] || '').trim().replace(/\s+/g, ' ') + '\n').join('');
	const payload = req.headers['x-amz-content-sha256'];
	if (!payload)
		return 'bad';
	const creq = [req.method, curi, canonicalQuery(query), hdrs, signed, payload].join('\n');
	const scope = `${date}/${region}/${service}/aws4_request`;
	const sts = ['AWS4-HMAC-SHA256', req.headers['x-amz-date'], scope,
		crypto.createHash('sha256').update(creq).digest('hex')].join('\n');
	let k = hmac('AWS4' + opt.secret, date);
	k = hmac(hmac(hmac(k, region), service), 'aws4_request');
	return hmac(k, sts).toString('hex') === sig ? 'ok' : 'bad';
}

/* ---- answers ---- */

function xmlError(code, message) {
	return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault</RequestId></Error>`;
}
const canned = {
	500: [500, 'InternalError', 'We encountered an internal error. Please try again.'],
	503: [503, 'SlowDown', 'Please reduce your request rate.'],
	429: [429, 'SlowDown', 'Please reduce your request rate.'],
	403: [403, 'AccessDenied', 'Access Denied'],
	badkey: [403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'],
	bad: [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'],
	error200: [200, 'InternalError', 'We encountered an internal error. Please try again.'],
};

function answer(req, res, status, body) {
	req.resume(); /* drain what the client still sends */
	res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
	res.end(body);
}

function deletePartial(req, res) {
	let body = '';
	req.on('data', d => (body += d));
	req.on('end', () => {
		const k = /<Key>([^<]*)<\/Key>/.exec(body);
		answer(req, res, 200, `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult><Error><Key>${k ? k[1] : ''}</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>`);
	});
}

/* Forward to the server; `cut` may end the answer early ("truncate" or
 * "stall-body"). */
function forward(req, res, cut) {
	const up = http.request({ host: upHost, port: upPort, method: req.method, path: req.url, headers: req.headers }, ur => {
		const len = Number(ur.headers['content-length'] || 0);
		res.writeHead(ur.statusCode, ur.headers);
		if (!cut || len < 2 || req.method === 'HEAD') {
			ur.pipe(res);
			return;
		}
		let sent = 0;
		const half = Math.floor(len / 2);
		ur.on('data', d => {
			if (sent >= half)
				return;
			const piece = d.slice(0, half - sent);
			sent += piece.length;
			res.write(piece);
			if (sent >= half) {
				ur.destroy();
				if (cut === 'truncate')
					setTimeout(() => res.socket && res.socket.destroy(), 50);
			}
		});
	});
	up.on('error', () => res.socket && res.socket.destroy());
	req.pipe(up);
}

function reset(req) {
	const s = req.socket;
	if (typeof s.resetAndDestroy === 'function')
		s.resetAndDestroy();
	else
		s.destroy();
}

const server = http.createServer((req, res) => {
	const qi = req.url.indexOf('?');
	const path = qi < 0 ? req.url : req.url.slice(0, qi);
	const query = qi < 0 ? '' : req.url.slice(qi + 1);
	const key = dec(path) || path;
	const sig = opt.secret ? verify(req, path, query) : 'unchecked';
	const rule = (sig === 'bad' || sig === 'badkey') ? null : pick(req.method, key, query);
	const fault = rule ? String(rule.fault) : (sig === 'bad' || sig === 'badkey' ? sig : '');
	/* Logged on arrival, synchronously: the client cannot have its answer
	 * (and a test cannot read the log) before the line is written. */
	log({ method: req.method, key, query, fault, sig });

	if (canned[fault]) {
		const [st, code, msg] = canned[fault];
		answer(req, res, st, xmlError(code, msg));
	} else if (fault === 'delay') {
		setTimeout(() => forward(req, res, null), rule.ms || 1000);
	} else if (fault === 'stall') {
		req.resume();
	} else if (fault === 'stall-body' || fault === 'truncate') {
		forward(req, res, fault);
	} else if (fault === 'reset') {
		reset(req);
	} else if (fault === 'delete-partial') {
		deletePartial(req, res);
	} else {
		forward(req, res, null);
	}
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => {
	fs.writeFileSync(opt['port-file'], String(server.address().port));
});
