import type { SendLinks } from './links.js';
import { renderEmail, type CompiledTemplate, type RenderContext, type TemplateSource } from './render.js';

/** What a send row stores of its message: everything a delivery attempt hands the provider. */
export interface SendContent {
  subject: string;
  html: string;
  text: string;
  /** List-Unsubscribe headers of marketing mail; absent for transactional mail. */
  headers?: Record<string, string>;
}

/**
 * Renders one email of any kind for its recipient, the one way every kind records a send. Marketing
 * mail (campaign and sequence) passes its `links`: `{{ unsubscribeUrl }}` resolves, the HTML gets
 * tracked links, the pixel and, when the template has no unsubscribe link, a footer, and the headers
 * carry List-Unsubscribe. Transactional mail passes none and is stored as rendered. Throws the
 * renderer's TemplateRenderError/TemplateSyntaxError; each caller maps them to its own failure.
 */
export function composeSendContent(
  template: TemplateSource | CompiledTemplate,
  context: Omit<RenderContext, 'unsubscribeUrl'>,
  links?: SendLinks,
): SendContent {
  const rendered = renderEmail(template, { ...context, ...(links ? { unsubscribeUrl: links.unsubscribeUrl } : {}) }, links?.decoration);
  if (!links) return { subject: rendered.subject, html: rendered.html, text: rendered.text };
  return {
    subject: rendered.subject,
    html: rendered.decorated ? rendered.html : links.decorate(rendered.html),
    text: links.decorateText(rendered.text),
    headers: links.headers,
  };
}
