// Renders API Gateway mapping templates with a real Velocity engine
// (velocityjs), for infra/templatecheck's tests. It reads one JSON request
// per line on stdin and answers one JSON line on stdout, so a test binary
// keeps one process for all its renders:
//
//   request:  {"template": "...", "body": "<$input.body>", "params": {"header": {...}, ...},
//              "context": {...}, "nullSet": "keep" | "assign"}
//   answer:   {"output": "...", "status": <$context.responseOverride.status or null>,
//              "headers": {<$context.responseOverride.header.*>}}  or  {"error": "..."}
//
// velocityjs supplies the language (parsing, #set, #if, references,
// string literals, method calls); this file supplies what API Gateway puts
// in a template's context, as AWS documents it: $input (body, path, json,
// params), $util (escapeJavaScript, parseJson, base64, url encoding) and
// $context with its responseOverride, and the Java methods the templates
// call on strings and maps. A method these objects lack is an error, not
// a silent null, so a template that outgrows this fails its tests.
//
// Velocity versions disagree on #set with a null value: 1.7 keeps the old
// value, 2.x assigns null. API Gateway does not document which it runs,
// so "nullSet" picks one and the tests render under both.
'use strict';

const readline = require('node:readline');
const velocity = require('velocityjs');

// $util.escapeJavaScript is Apache Commons Lang's
// StringEscapeUtils.escapeJavaScript: ' " \ / get a backslash, \b \t \n \f
// \r their short escapes, other control characters and everything beyond
// ASCII \uXXXX per UTF-16 unit, in upper-case hex.
function escapeJavaScript(s) {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u > 0x7f || (u < 0x20 && !'\b\n\t\f\r'.includes(s[i]))) {
      out += '\\u' + u.toString(16).toUpperCase().padStart(4, '0');
    } else if (u < 0x20) {
      out += { '\b': '\\b', '\n': '\\n', '\t': '\\t', '\f': '\\f', '\r': '\\r' }[s[i]];
    } else if ("'\"\\/".includes(s[i])) {
      out += '\\' + s[i];
    } else {
      out += s[i];
    }
  }
  return out;
}

// jsonPath evaluates the JSONPath subset API Gateway templates use: $,
// $.a.b and $['a'].
function jsonPath(root, path) {
  if (typeof path !== 'string' || !path.startsWith('$')) throw new Error('JSONPath ' + path + ' not supported');
  let cur = root;
  const steps = path.slice(1).match(/\.[A-Za-z_][A-Za-z0-9_]*|\['[^']*'\]/g) || [];
  if (steps.join('') !== path.slice(1)) throw new Error('JSONPath ' + path + ' not supported');
  for (const step of steps) {
    const key = step.startsWith('.') ? step.slice(1) : step.slice(2, -2);
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, key)) return undefined;
    cur = cur[key];
  }
  return cur;
}

// javaRegExp reads a java.util.regex pattern; the templates' patterns use
// only what Java and JavaScript spell alike (literals and \ escapes).
function javaRegExp(pattern) {
  if (/[(?<]|\\[pQEGZz]/.test(pattern)) throw new Error('Java regex ' + pattern + ' not supported');
  return new RegExp(pattern, 'g');
}

// javaReplacement reads a Matcher replacement string: \x is a literal x,
// $n a group.
function javaReplacement(repl) {
  return repl.replace(/\\(.)|\$/g, (m, lit) => (lit !== undefined ? (lit === '$' ? '$$' : lit) : '$'));
}

// Java's String methods the templates call, with Java's meaning.
const stringMethods = {
  replaceAll: (s, [re, repl]) => s.replace(javaRegExp(re), javaReplacement(repl)),
  contains: (s, [x]) => s.includes(String(x)),
  length: (s) => s.length,
  isEmpty: (s) => s.length === 0,
  startsWith: (s, [x]) => s.startsWith(x),
  endsWith: (s, [x]) => s.endsWith(x),
  equals: (s, [x]) => s === x,
  substring: (s, [a, b]) => s.substring(a, b),
  toLowerCase: (s) => s.toLowerCase(),
  trim: (s) => s.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, ''),
};

const handlers = [
  {
    uid: 'java.lang.String',
    match: ({ context }) => typeof context === 'string',
    resolve: ({ property, context, params }) => {
      const m = stringMethods[property];
      if (!m) throw new Error('String.' + property + ' not supported');
      return m(context, params);
    },
  },
  {
    // A Java Map's get: null for a missing key (not the getX bean lookup
    // velocityjs falls back to).
    uid: 'java.util.Map.get',
    match: ({ property, context }) => property === 'get' && context && context.__map === true,
    resolve: ({ context, params }) =>
      Object.prototype.hasOwnProperty.call(context.entries, params[0]) ? context.entries[params[0]] : undefined,
  },
];

function javaMap(obj) {
  return { __map: true, entries: obj || {} };
}

function inputObject(req) {
  const body = req.body === undefined || req.body === null ? '' : String(req.body);
  let json;
  let parsed = false;
  const payload = () => {
    if (!parsed) {
      parsed = true;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
    }
    return json;
  };
  const params = req.params || {};
  const all = { header: javaMap(params.header), querystring: javaMap(params.querystring), path: javaMap(params.path) };
  return {
    body,
    path: (p) => {
      const v = jsonPath(payload(), p);
      return v === null ? undefined : v;
    },
    json: (p) => {
      const v = jsonPath(payload(), p);
      return v === undefined ? undefined : JSON.stringify(v);
    },
    // $input.params() is every parameter; $input.params('x') looks x up in
    // the path, the query string, then the headers.
    params: (name) => {
      if (name === undefined) return all;
      for (const where of ['path', 'querystring', 'header']) {
        const m = params[where] || {};
        if (Object.prototype.hasOwnProperty.call(m, name)) return m[name];
      }
      return undefined;
    },
  };
}

const util = {
  escapeJavaScript: (s) => (s === undefined || s === null ? undefined : escapeJavaScript(String(s))),
  parseJson: (s) => JSON.parse(s),
  base64Encode: (s) => Buffer.from(String(s), 'utf8').toString('base64'),
  base64Decode: (s) => Buffer.from(String(s), 'base64').toString('utf8'),
  urlEncode: (s) => encodeURIComponent(String(s)).replace(/%20/g, '+'),
  urlDecode: (s) => decodeURIComponent(String(s).replace(/\+/g, ' ')),
};

// keepOnNullSet makes #set with a null value leave the variable as it
// was (Velocity 1.7), for the "keep" renders.
function keepOnNullSet(compile) {
  const setValue = compile.setValue;
  compile.setValue = function (ast) {
    const valAst = ast.equal[1];
    if (valAst.type !== 'math') {
      const v = this.getLiteral(valAst);
      if (v === undefined || v === null) return;
    }
    return setValue.call(this, ast);
  };
}

// withoutNulls drops null members: JSON has no undefined, and a Velocity
// reference to a null value reads as an absent one.
function withoutNulls(v) {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const out = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = withoutNulls(x);
  return out;
}

// checkBlocks refuses unbalanced #if/#foreach/#macro/#define and #end,
// which Java Velocity does not parse but velocityjs forgives.
function checkBlocks(template) {
  const code = template.replace(/#\*[\s\S]*?\*#/g, '').replace(/##.*$/gm, '');
  let depth = 0;
  for (const m of code.matchAll(/#\{?(if|foreach|macro|define|end)\b\}?/g)) {
    depth += m[1] === 'end' ? -1 : 1;
    if (depth < 0) throw new Error('#end without a block');
  }
  if (depth !== 0) throw new Error(depth + ' block(s) without #end');
}

function render(req) {
  checkBlocks(req.template);
  const context = withoutNulls(req.context || {});
  context.responseOverride = { header: {} };
  const asts = velocity.parse(req.template);
  const compile = new velocity.Compile(asts, { env: 'development', customMethodHandlers: handlers, escape: false });
  // Java Velocity (not in strict mode) makes a property or method of null
  // null; only a method an object lacks is an error here.
  const raise = compile._throw;
  compile._throw = function (ast, property, errorName) {
    if (errorName === 'TypeError') raise.call(this, ast, property, errorName);
  };
  if (req.nullSet === 'keep') keepOnNullSet(compile);
  else if (req.nullSet !== 'assign') throw new Error('nullSet must be keep or assign');
  const output = compile.render({ input: inputObject(req), util, context });
  const status = context.responseOverride.status;
  return { output, status: status === undefined ? null : status, headers: context.responseOverride.header };
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  let answer;
  try {
    answer = render(JSON.parse(line));
  } catch (e) {
    answer = { error: String(e && e.message ? e.message : e) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});
