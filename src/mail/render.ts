import { createHash } from 'node:crypto';
import { decodeHTMLAttribute } from 'entities';
import { compile as compileHtmlToText } from 'html-to-text';
import { Parser } from 'htmlparser2';
import { Liquid, LiquidError, Tag, TokenKind, type Context, type Emitter, type LiquidOptions, type Parser as LiquidParser, type Template, type TagToken, type TopLevelToken } from 'liquidjs';

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
  /**
   * Without a text part: the plain text derived once from the HTML source with its Liquid kept (see
   * deriveTextTemplate), so each recipient costs a Liquid render instead of an HTML-to-text pass. Null
   * when the source makes markup from Liquid, whose text only the rendered HTML can give.
   */
  derivedText: Template[] | null;
  /**
   * The HTML with its links and the place before `</body>` marked for tracking (see markTracking), so
   * one Liquid render gives a recipient's decorated HTML. Null when Liquid could make markup there:
   * then the rendered HTML is parsed and decorated (src/mail/links.ts rewriteHtml).
   */
  trackedHtml: Template[] | null;
}

/**
 * What marketing mail adds to its HTML, per recipient (src/mail/links.ts builds it): the tracked URL
 * for a link, and what goes before `</body>` (the unsubscribe footer when the HTML lacks the link, the
 * open pixel).
 */
export interface HtmlDecoration {
  /** The URL a link's href (decoded) becomes, or null to leave the link as written. */
  link(href: string): string | null;
  /** Inserted before the closing body tag of this rendered HTML (or at its end); may be empty. */
  tail(html: string): string;
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
  /** Whether `html` already carries the decoration passed to renderEmail. */
  decorated?: boolean;
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

/*
 * Tracking compiled into the template. markTracking wraps each link's href attribute in
 * `{% tidings_href P S %}…{% endtidings_href %}` (P and S: the lengths of `href="` and of the closing
 * quote) and puts `{% tidings_tail %}` where `</body>` is. While renderDecorated runs (rendering is
 * synchronous, so one decoration is active at a time) the first renders the attribute, decodes its value
 * as an HTML parser would and asks the decoration for the tracked URL; the second leaves a marker that
 * becomes the tail once the whole HTML is known. With no decoration active both render as if absent.
 */
let activeDecoration: { decoration: HtmlDecoration; tails: number } | null = null;
const TAIL_MARKER = '\u0000tidings-tail\u0000';

/** A value safe inside a double-quoted HTML attribute. */
export function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

class TrackedHrefTag extends Tag {
  private readonly templates: Template[] = [];
  private readonly prefix: number;
  private readonly suffix: number;
  constructor(token: TagToken, remain: TopLevelToken[], liquid: Liquid, parser: LiquidParser) {
    super(token, remain, liquid);
    const [prefix, suffix] = token.args.trim().split(/\s+/).map(Number);
    this.prefix = prefix ?? 0;
    this.suffix = suffix ?? 0;
    while (remain.length) {
      const next = remain.shift()!;
      if (next.kind === TokenKind.Tag && (next as TagToken).name === 'endtidings_href') return;
      this.templates.push(parser.parseToken(next, remain));
    }
    throw new Error(`tag ${token.getText()} not closed`);
  }
  *render(ctx: Context, emitter: Emitter): Generator<unknown, void, string> {
    const attribute = yield this.liquid.renderer.renderTemplates(this.templates, ctx);
    const target = activeDecoration?.decoration.link(decodeHTMLAttribute(attribute.slice(this.prefix, attribute.length - this.suffix)));
    emitter.write(target ? `href="${escapeAttribute(target)}"` : attribute);
  }
}

class TrackingTailTag extends Tag {
  render(_ctx: Context, emitter: Emitter): void {
    // Only the first: a template that names the tag itself must not get the footer twice.
    if (activeDecoration && activeDecoration.tails++ === 0) emitter.write(TAIL_MARKER);
  }
}

htmlEngine.registerTag('tidings_href', TrackedHrefTag);
htmlEngine.registerTag('tidings_tail', TrackingTailTag);

const TEXT_WORDWRAP = 100;
const TEXT_SELECTORS = [
  { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
  { selector: 'img', format: 'skip' },
];
const htmlToText = compileHtmlToText({ wordwrap: TEXT_WORDWRAP, selectors: TEXT_SELECTORS });

/*
 * The text part of a template without one is derived from its HTML source once: every Liquid tag and
 * output becomes a placeholder word (the same source, the same placeholder, so a link whose text is its
 * URL still hides the URL), the HTML goes through the same html-to-text conversion as rendered HTML
 * would, and the placeholders go back as the Liquid they stand for. Headings are upper-cased by that
 * conversion: a placeholder met there comes back with `| upcase`, so a first name in a heading reads as
 * it did when the rendered HTML was converted. Placeholders are control characters no template or
 * contact field holds (PostgreSQL text cannot store NUL; these never appear in HTML source).
 */
/* eslint-disable no-control-regex -- the placeholders are control characters on purpose (see above) */
const LIQUID = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g;
const PLACEHOLDER = /\u0001(\d+)\u0002|\u0003(\d+)\u0002/g;
const upcasePlaceholders = (word: string) => word.toUpperCase().replace(/\u0001(\d+)\u0002/g, '\u0003$1\u0002');
/* eslint-enable no-control-regex */

const sourceToText = compileHtmlToText({
  wordwrap: TEXT_WORDWRAP,
  formatters: {
    liquidHeading(elem, walk, builder, formatOptions) {
      builder.openBlock({ leadingLineBreaks: formatOptions.leadingLineBreaks || 2 });
      builder.pushWordTransform(upcasePlaceholders);
      walk(elem.children, builder);
      builder.popWordTransform();
      builder.closeBlock({ trailingLineBreaks: formatOptions.trailingLineBreaks || 2 });
    },
  },
  selectors: [...TEXT_SELECTORS, ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, format: 'liquidHeading' }))],
});

/** `{{ x }}` → `{{ x | upcase }}`, keeping whitespace control; tags (`{% %}`) are left as they are. */
function upcased(liquid: string): string {
  const output = /^\{\{(-?)([\s\S]*?)(-?)\}\}$/.exec(liquid);
  return output ? `{{${output[1]}${output[2]!.trimEnd()} | upcase ${output[3]}}}` : liquid;
}

/**
 * The Liquid source of the text derived from an HTML source, or null when Liquid could make markup
 * there (`raw`, or `<`/`>` inside a tag): then only the rendered HTML tells what the text is.
 */
function deriveTextTemplate(html: string): string | null {
  const tags = html.match(LIQUID) ?? [];
  // eslint-disable-next-line no-control-regex -- a source holding a placeholder character keeps it as text
  if (/\braw\b/.test(html) || tags.some((tag) => /[<>]/.test(tag)) || /[\u0001-\u0003]/.test(html)) return null;
  const ids = new Map<string, number>();
  const marked = html.replace(LIQUID, (tag) => {
    if (!ids.has(tag)) ids.set(tag, ids.size);
    return `\u0001${ids.get(tag)}\u0002`;
  });
  const sources = [...ids.keys()];
  const text = sourceToText(marked);
  // Entities such as `&#123;&#123;` decode to Liquid delimiters: text the reader was meant to see as is.
  if (/\{\{|\{%/.test(text)) return null;
  return text.replace(PLACEHOLDER, (_, plain?: string, upper?: string) =>
    plain !== undefined ? sources[Number(plain)]! : upcased(sources[Number(upper)]!),
  );
}

/** An `<a>` or `<area>` with this attribute keeps its link untouched (e.g. a link to a login page). */
export const NO_TRACK_ATTRIBUTE = 'data-tidings-no-track';

const count = (text: string, token: string) => text.split(token).length - 1;

/** The href attribute of an `<a>` or `<area>` without NO_TRACK_ATTRIBUTE: its offsets and decoded value. */
export interface HtmlLink {
  start: number;
  end: number;
  value: string;
}

/**
 * The links a tracker rewrites, at parser offsets, and where `</body>` is (-1 without one): the one
 * reading of HTML for both the compiled tracking and the rewrite of rendered HTML (src/mail/links.ts).
 * `onAttribute` sees every attribute's name and source text.
 */
export function findLinks(html: string, onAttribute?: (name: string, source: string) => void): { links: HtmlLink[]; bodyClose: number } {
  const links: HtmlLink[] = [];
  let tag = '';
  let href: HtmlLink | null = null;
  let noTrack = false;
  let bodyClose = -1;
  const parser = new Parser(
    {
      onopentagname(name) {
        tag = name;
        href = null;
        noTrack = false;
      },
      onattribute(name, value) {
        onAttribute?.(name, html.slice(parser.startIndex, parser.endIndex));
        if (name === NO_TRACK_ATTRIBUTE) noTrack = true;
        // Browsers follow the first href of a tag; later duplicates are ignored, by them and by us.
        else if (name === 'href' && !href && (tag === 'a' || tag === 'area')) href = { start: parser.startIndex, end: parser.endIndex, value };
      },
      onopentag() {
        if (href && !noTrack) links.push(href);
        href = null;
      },
      onclosetag(name, isImplied) {
        if (name === 'body' && !isImplied) bodyClose = parser.startIndex;
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.end(html);
  return { links, bodyClose };
}

/**
 * The HTML source with tracking compiled in (see TrackedHrefTag): every href of an `<a>` or `<area>`
 * without NO_TRACK_ATTRIBUTE wrapped, and the tail tag before `</body>` (or at the end). The source is
 * parsed as the rendered HTML would be, so this finds the links rewriteHtml would find; null when Liquid
 * could change what a parser finds (`raw`, `<`/`>` in a tag, Liquid among a tag's attributes or cut by
 * a quote).
 */
function markTracking(html: string): string | null {
  if (/\braw\b/.test(html) || (html.match(LIQUID) ?? []).some((tag) => /[<>]/.test(tag)) || html.includes('\u0000')) return null;
  let unsafe = false;
  const { links, bodyClose } = findLinks(html, (name, attribute) => {
    if (/[{}%"'<]/.test(name) || count(attribute, '{{') !== count(attribute, '}}') || count(attribute, '{%') !== count(attribute, '%}')) unsafe = true;
  });
  if (unsafe) return null;

  let out = '';
  let at = 0;
  for (const { start, end } of links) {
    const attribute = html.slice(start, end);
    const equals = /^[^=]*=\s*/.exec(attribute);
    // `<a href>` has no URL to track.
    if (!equals) continue;
    const quoted = /["']/.test(attribute[equals[0].length] ?? '');
    const prefix = equals[0].length + (quoted ? 1 : 0);
    out += `${html.slice(at, start)}{% tidings_href ${prefix} ${quoted ? 1 : 0} %}${attribute}{% endtidings_href %}`;
    at = end;
  }
  const tailAt = bodyClose >= at ? bodyClose : html.length;
  return `${out}${html.slice(at, tailAt)}{% tidings_tail %}${html.slice(tailAt)}`;
}

/** Renders the tracked HTML for one recipient: links tracked by the decoration, its tail before `</body>`. */
function renderDecorated(templates: Template[], scope: object, decoration: HtmlDecoration): string {
  activeDecoration = { decoration, tails: 0 };
  let html: string;
  try {
    html = render(htmlEngine, 'html', templates, scope);
  } finally {
    activeDecoration = null;
  }
  const at = html.indexOf(TAIL_MARKER);
  // A `</body>` inside a Liquid branch not taken: the tail goes at the end, as for HTML without one.
  if (at < 0) return html + decoration.tail(html);
  const before = html.slice(0, at);
  const after = html.slice(at + TAIL_MARKER.length);
  return before + decoration.tail(before + after) + after;
}

/** Derived text as html-to-text would give it: Liquid that rendered empty must not leave runs of blank lines. */
function tidyDerivedText(text: string): string {
  return text.replace(/(\S)[ \t]{2,}/g, '$1 ').replace(/[ \t]+$/gm, '').replace(/\n{3,}/g, '\n\n').trim();
}

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
  const html = parse(htmlEngine, 'html', source.html);
  const derived = source.text ? null : deriveTextTemplate(source.html);
  const tracked = markTracking(source.html);
  const compiled: CompiledTemplate = {
    hash,
    subject: parse(textEngine, 'subject', source.subject),
    html,
    text: source.text ? parse(textEngine, 'text', source.text) : null,
    derivedText: derived === null ? null : parseOrNull(textEngine, derived),
    trackedHtml: tracked === null ? null : parseOrNull(htmlEngine, tracked),
  };
  cache.set(hash, compiled);
  return compiled;
}

/**
 * Renders a template for one recipient. Contact fields are available at the top level
 * (`{{ firstName }}`) and under `contact` (`{{ contact.customFields.plan }}`), per-send variables at the
 * top level and under `variables`, and `{{ unsubscribeUrl }}` always means the real link. The plain
 * text part is derived from the HTML when the template has none. With a `decoration` (marketing mail)
 * the HTML comes back decorated (`decorated: true`) whenever the template allows it in one render;
 * otherwise the caller decorates the rendered HTML (src/mail/compose.ts).
 */
export function renderEmail(template: TemplateSource | CompiledTemplate, context: RenderContext = {}, decoration?: HtmlDecoration): RenderedEmail {
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
  // Decorated in the same render when the text part does not need the undecorated HTML.
  const decorated = Boolean(decoration && compiled.trackedHtml && (compiled.text || compiled.derivedText));
  const html = decorated ? renderDecorated(compiled.trackedHtml!, scope, decoration!) : render(htmlEngine, 'html', compiled.html, scope);
  const text = compiled.text
    ? render(textEngine, 'text', compiled.text, scope)
    : compiled.derivedText
      ? tidyDerivedText(render(textEngine, 'html', compiled.derivedText, scope))
      : htmlToText(html);
  // A subject is one header line; a newline from contact data must not break it.
  const subject = render(textEngine, 'subject', compiled.subject, scope).replace(/\s+/g, ' ').trim();
  return decorated ? { subject, html, text, decorated } : { subject, html, text };
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

/** A derived template that Liquid will not take (it never should) falls back to converting each rendered HTML. */
function parseOrNull(engine: Liquid, source: string): Template[] | null {
  try {
    return engine.parse(source);
  } catch {
    return null;
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
