import type { RequestHandler } from 'express';
import { AppError } from '../../errors.js';
import type { Role } from '../request-context.js';
import '../request-context.js';

const RANK: Record<Role, number> = { viewer: 0, editor: 1, owner: 2 };

const READS = ['GET', 'HEAD', 'OPTIONS'] as const;
const ANY = '*';
/** POSTs that only compute an answer (a render, a count) and change nothing: anyone who may read may ask. */
const READ_ONLY_POSTS: readonly RegExp[] = [/^\/templates(\/\d+)?\/preview$/, /^\/segments\/preview$/, /^\/campaigns\/audience-count$/];

interface RoleRule {
  /**
   * Path under /api/v1; matches itself and everything below it (`/users` covers `/users/7`). A RegExp
   * matches the whole normalized path instead (for one route with an id in it).
   */
  prefix: string | RegExp;
  /** Methods the rule covers; `*` for all. */
  methods: readonly string[] | typeof ANY;
  minimum: Role;
}

/**
 * Who may do what, first matching rule wins. Viewers read; editors do the daily work (contacts, lists,
 * templates, campaigns, sequences, sends); owners also hold the keys to the site: API keys and users
 * (even reading them: emails and key prefixes are the site's access list), and changes to sending
 * configs and webhook endpoints (credentials and where data goes) and to the site's own settings
 * (its name, the frequency cap). Editors may still read sending
 * configs, since a campaign or sequence names one. A few POSTs are reads (a template preview, an
 * audience count): viewers may send those, since the pages they can see use them. API keys act as owners.
 */
export const ROLE_RULES: readonly RoleRule[] = [
  ...READ_ONLY_POSTS.map((prefix) => ({ prefix, methods: ['POST'], minimum: 'viewer' as const })),
  { prefix: '/api-keys', methods: ANY, minimum: 'owner' },
  { prefix: '/users', methods: ANY, minimum: 'owner' },
  { prefix: '/sending-configs', methods: READS, minimum: 'viewer' },
  { prefix: '/sending-configs', methods: ANY, minimum: 'owner' },
  { prefix: '/webhook-endpoints', methods: READS, minimum: 'viewer' },
  { prefix: '/webhook-endpoints', methods: ANY, minimum: 'owner' },
  { prefix: '/site', methods: READS, minimum: 'viewer' },
  { prefix: '/site', methods: ANY, minimum: 'owner' },
  { prefix: '/', methods: READS, minimum: 'viewer' },
  { prefix: '/', methods: ANY, minimum: 'editor' },
];

function covers(rule: RoleRule, path: string, method: string): boolean {
  const inPrefix =
    typeof rule.prefix !== 'string' ? rule.prefix.test(path) : rule.prefix === '/' || path === rule.prefix || path.startsWith(`${rule.prefix}/`);
  return inPrefix && (rule.methods === ANY || rule.methods.includes(method));
}

/** The least role that may send `method` to `path` (a path relative to /api/v1, any case). */
export function minimumRole(method: string, path: string): Role {
  // Express routing ignores case and a trailing slash, so the table must too; repeated slashes are
  // folded so that `//users` cannot slip past the `/users` rule.
  const normalized = path.toLowerCase().replace(/\/{2,}/g, '/').replace(/\/+$/, '') || '/';
  return ROLE_RULES.find((rule) => covers(rule, normalized, method))?.minimum ?? 'owner';
}

/** 403 `forbidden_role` unless the caller's role reaches the table's minimum. Mounted after authentication. */
export const requireRole: RequestHandler = (req, _res, next) => {
  if (!req.auth) throw new AppError('unauthorized', 'unauthenticated', 'Authentication required');
  const needed = minimumRole(req.method, req.path);
  if (RANK[req.auth.role] < RANK[needed]) {
    throw new AppError('forbidden_role', 'forbidden', `This needs the ${needed} role; you are ${req.auth.role === 'editor' ? 'an' : 'a'} ${req.auth.role}`);
  }
  next();
};
