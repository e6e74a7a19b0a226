import { createHash } from 'node:crypto';
import { compile as compileHtmlToText } from 'html-to-text';
import { Liquid, LiquidError, type LiquidOptions, type Template } from 'liquidjs';

/** A template as stored: Liquid source for subject, HTML and optionally plain text. */
export interface TemplateSource {
  subject: string;
  html: string;
  text?: string | null;
}

export type TemplateField = 'subject' | 'html' | 'text';

/** A template parsed once, ready to render for many contacts. */
export interface CompiledTemplate {
  /** SHA-256 of the source, the cache key. */
  hash: string;
  subject: Template[];
  html: Template[];
  text: Template[] | null;
}

/** The contact fields a template sees, at the top level and under `contact`. */
export interface TemplateContact {
  email?: string;
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
  company?: string | null;
  city?: string | null;
  country?: string | null;
  timezone?: string | null;
  customFields?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface RenderContext {
  contact?: TemplateContact | null;
  /** Per-send variables; at the top level they win over contact fields of the same name. */
  variables?: Record<string, unknown>;
  unsubscribeUrl?: string;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/**
 * A template that does not parse. `line` and `column` are 1-based within `field`, so the API can
 * answer a save with a 400 that points at the mistake.
 */
export class TemplateSyntaxError extends Error {
  readonly code = 'template_syntax_error';
  constructor(
    readonly field: TemplateField,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`${field}: ${reason} (line ${line}, column ${column})`);
    this.name = 'TemplateSyntaxError';
  }
}

/**
 * A template that parsed but failed while rendering (a filter error, or the time/memory limits that
 * keep one template from stalling a worker). Retrying will fail the same way.
 */
export class TemplateRenderError extends Error {
  readonly code = 'template_render_error';
  constructor(
    readonly field: TemplateField,
    readonly reason: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(`${field}: ${reason}${line ? ` (line ${line}, column ${column})` : ''}`);
    this.name = 'TemplateRenderError';
  }
}

const baseOptions: LiquidOptions = {
  // A typo in a filter name is caught at save time instead of rendering silently wrong for everyone.
  strictFilters: true,
  // A contact without a first name is normal: missing variables render as empty, `default` fills in.
  strictVariables: false,
  ownPropertyOnly: true,
  timezoneOffset: 0,
  // Templates are tenant input rendered inside shared workers; bound what one of them can cost.
  parseLimit: 1_000_000,
  renderLimit: 2_000,
  memoryLimit: 50_000_000,
};

function createEngine(options: LiquidOptions): Liquid {
  const engine = new Liquid({ ...baseOptions, ...options });
  // Partials would read files from the worker's disk; templates are self-contained.
  for (const tag of ['include', 'render', 'layout']) {
    engine.registerTag(tag, {
      parse() {
        throw new Error(`the "${tag}" tag is not available in email templates`);
      },
      render() {},
    });
  }
  return engine;
}

/** HTML: every output is HTML-escaped, so contact data can never inject markup (`| raw` opts out). */
const htmlEngine = createEngine({ outputEscape: 'escape' });
/** Subject and plain text are not HTML: escaping would show `&amp;` to the reader. */
const textEngine = createEngine({});

const htmlToText = compileHtmlToText({
  wordwrap: 100,
  selectors: [
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    { selector: 'img', format: 'skip' },
  ],
});

/** Bounded LRU of parsed templates by content hash: a campaign renders one template thousands of times. */
class LruCache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
  get size(): number {
    return this.map.size;
  }
}

const cache = new LruCache<CompiledTemplate>(500);

/** Number of parsed templates held; exposed for tests and metrics. */
export function templateCacheSize(): number {
  return cache.size;
}

export function templateHash(source: TemplateSource): string {
  return createHash('sha256')
    .update(JSON.stringify([source.subject, source.html, source.text ?? null]))
    .digest('hex');
}

/**
 * Parses and validates a template; throws {@link TemplateSyntaxError} (field, line, column) when any
 * part does not parse. Results are cached by content, so calling this at render time is cheap.
 */
export function compileTemplate(source: TemplateSource): CompiledTemplate {
  const hash = templateHash(source);
  const cached = cache.get(hash);
  if (cached) return cached;
  const compiled: CompiledTemplate = {
    hash,
    subject: parse(textEngine, 'subject', source.subject),
    html: parse(htmlEngine, 'html', source.html),
    text: source.text ? parse(textEngine, 'text', source.text) : null,
  };
  cache.set(hash, compiled);
  return compiled;
}

/**
 * Renders a template for one recipient. Contact fields are available at the top level
 * (`{{ firstName }}`) and under `contact` (`{{ contact.customFields.plan }}`), per-send variables at the
 * top level and under `variables`, and `{{ unsubscribeUrl }}` always means the real link. The plain
 * text part is derived from the rendered HTML when the template has none.
 */
export function renderEmail(template: TemplateSource | CompiledTemplate, context: RenderContext = {}): RenderedEmail {
  const compiled = isCompiled(template) ? template : compileTemplate(template);
  const contact = context.contact ?? {};
  const variables = context.variables ?? {};
  const scope = {
    ...contact,
    ...variables,
    contact,
    variables,
    unsubscribeUrl: context.unsubscribeUrl ?? '',
  };
  const html = render(htmlEngine, 'html', compiled.html, scope);
  const text = compiled.text ? render(textEngine, 'text', compiled.text, scope) : htmlToText(html);
  // A subject is one header line; a newline from contact data must not break it.
  const subject = render(textEngine, 'subject', compiled.subject, scope).replace(/\s+/g, ' ').trim();
  return { subject, html, text };
}

function isCompiled(template: TemplateSource | CompiledTemplate): template is CompiledTemplate {
  return Array.isArray(template.html);
}

function parse(engine: Liquid, field: TemplateField, source: string): Template[] {
  try {
    return engine.parse(source);
  } catch (err) {
    const { line, column, reason } = describeLiquidError(err);
    throw new TemplateSyntaxError(field, line ?? 1, column ?? 1, reason);
  }
}

function render(engine: Liquid, field: TemplateField, templates: Template[], scope: object): string {
  try {
    return String(engine.renderSync(templates, scope));
  } catch (err) {
    const { line, column, reason } = describeLiquidError(err);
    throw new TemplateRenderError(field, reason, line, column);
  }
}

function describeLiquidError(err: unknown): { line?: number; column?: number; reason: string } {
  if (err instanceof LiquidError) {
    // liquidjs appends ", line:X, col:Y" to the message; we report the position as fields instead.
    const reason = err.message.replace(/, line:\d+, col:\d+$/, '');
    const token = (err as LiquidError & { token?: { getPosition(): [number, number] } }).token;
    if (token) {
      const [line, column] = token.getPosition();
      return { line, column, reason };
    }
    return { reason };
  }
  return { reason: err instanceof Error ? err.message : String(err) };
}
