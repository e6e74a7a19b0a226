import type { RequestHandler } from 'express';
import { openApiDocument } from '../openapi.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface PathEntry {
  /** Lowercased literal segments; null where the template has a `{param}`. */
  segments: (string | null)[];
  /** Upper-case methods the document lists for this path. */
  methods: Set<string>;
}

/** Splits `/a/b/` into `['a', 'b']` (Express routing ignores a trailing slash and letter case). */
function segmentsOf(path: string): string[] {
  return path.replace(/\/+$/, '').split('/').slice(1);
}

function buildIndex(paths: Record<string, Record<string, unknown>>): PathEntry[] {
  return Object.entries(paths).map(([template, operations]) => ({
    segments: segmentsOf(template).map((s) => (/^\{[^}]+\}$/.test(s) ? null : s.toLowerCase())),
    methods: new Set(Object.keys(operations).filter((m) => (METHODS as readonly string[]).includes(m)).map((m) => m.toUpperCase())),
  }));
}

/**
 * OpenAPI's rule: a concrete segment wins over a template at the first position where they differ,
 * so `/sequences/1/steps/reorder` is the `reorder` path, not `steps/{stepId}`.
 */
function moreSpecific(a: PathEntry, b: PathEntry): boolean {
  for (let i = 0; i < a.segments.length; i++) {
    const aLiteral = a.segments[i] !== null;
    const bLiteral = b.segments[i] !== null;
    if (aLiteral !== bLiteral) return aLiteral;
  }
  return false;
}

function bestMatch(index: PathEntry[], path: string): PathEntry | undefined {
  const parts = segmentsOf(path).map((s) => s.toLowerCase());
  let best: PathEntry | undefined;
  for (const entry of index) {
    if (entry.segments.length !== parts.length) continue;
    if (!entry.segments.every((s, i) => s === null ? parts[i] !== '' : s === parts[i])) continue;
    if (!best || moreSpecific(entry, best)) best = entry;
  }
  return best;
}

/**
 * 405 with `Allow` for a documented path asked with a method it does not have (instead of the 404
 * "no route" or a 400 from a neighbouring `{param}` route), and `OPTIONS` answered with the same
 * `Allow` list. Driven by the OpenAPI document, which test/api/openapi.test.ts keeps equal to the
 * routes the app serves. Paths the document does not know (`/docs`, typos) pass through to the 404.
 */
export function methodNotAllowed(): RequestHandler {
  let index: PathEntry[] | undefined;
  return (req, res, next) => {
    // Built on first use: every route module has registered its paths by then.
    index ??= buildIndex(openApiDocument().paths as Record<string, Record<string, unknown>>);
    const entry = bestMatch(index, req.path);
    if (!entry) return next();
    const allowed = new Set(entry.methods);
    // Express answers HEAD with the GET handler.
    if (allowed.has('GET')) allowed.add('HEAD');
    allowed.add('OPTIONS');
    const allow = [...allowed].join(', ');
    if (req.method === 'OPTIONS') {
      res.setHeader('Allow', allow);
      res.status(204).end();
      return;
    }
    if (allowed.has(req.method)) return next();
    res.setHeader('Allow', allow);
    res.status(405).json({
      error: { code: 'method_not_allowed', message: `${req.method} is not allowed on ${req.path}; allowed: ${allow}` },
    });
  };
}
