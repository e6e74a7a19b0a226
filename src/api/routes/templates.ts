import { Router } from 'express';
import type { Config } from '../../config.js';
import { getContact } from '../../db/repositories/contacts.js';
import { assertTemplateCompiles, createTemplate, deleteTemplate, getTemplate, listTemplates, updateTemplate } from '../../db/repositories/templates.js';
import { renderEmail, TemplateRenderError, type RenderedEmail } from '../../mail/render.js';
import type { AppDeps } from '../deps.js';
import { AppError, type ErrorDetail } from '../../errors.js';
import { offsetOf, sendData, sendPage, siteIdOf } from '../http.js';
import { idempotent } from '../middleware/idempotency.js';
import { IdParams, parseBody, parseParams, parseQuery } from '../validation.js';
import { PreviewBody, SourcePreviewBody, TemplateCreateBody, TemplateQuery, TemplateUpdateBody } from './templates.schema.js';

/** Where a preview's `{{ unsubscribeUrl }}` points: a recognisable placeholder, never a working link. */
export function previewUnsubscribeUrl(config: Pick<Config, 'PUBLIC_URL' | 'PORT'>): string {
  const base = config.PUBLIC_URL ?? `http://localhost:${config.PORT}`;
  return `${base.replace(/\/+$/, '')}/u/preview`;
}

function renderOrExplain(render: () => RenderedEmail): RenderedEmail {
  try {
    return render();
  } catch (err) {
    if (!(err instanceof TemplateRenderError)) throw err;
    // Like a syntax error, the detail names the field and, when liquidjs knows it, the line and column.
    const detail: ErrorDetail & { field: string; line?: number; column?: number } = { path: err.field, field: err.field, message: err.reason };
    if (err.line !== undefined) Object.assign(detail, { line: err.line, column: err.column });
    throw new AppError('template_render_failed', 'unprocessable', `The template failed to render: ${err.message}`, [detail]);
  }
}

export function templatesRouter({ db, config }: AppDeps): Router {
  const router = Router();

  router.post('/templates', idempotent(db), async (req, res) => {
    const { siteId: _s, ...input } = parseBody(req, TemplateCreateBody);
    sendData(res, await createTemplate(db, siteIdOf(req), input), 201);
  });

  router.get('/templates', async (req, res) => {
    const { page, limit } = parseQuery(req, TemplateQuery);
    const { rows, total } = await listTemplates(db, siteIdOf(req), { limit, offset: offsetOf({ page, limit }) });
    sendPage(res, rows, { page, limit }, total);
  });

  router.get('/templates/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const template = await getTemplate(db, siteIdOf(req), id);
    if (!template) throw AppError.notFound('Template', id);
    sendData(res, template);
  });

  router.patch('/templates/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    const { siteId: _s, ...patch } = parseBody(req, TemplateUpdateBody);
    const template = await updateTemplate(db, siteIdOf(req), id, patch);
    if (!template) throw AppError.notFound('Template', id);
    sendData(res, template);
  });

  router.delete('/templates/:id', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    if (!(await deleteTemplate(db, siteIdOf(req), id))) throw AppError.notFound('Template', id);
    res.status(204).end();
  });

  // Unsaved source (the editor's live preview): a syntax error is a 400 `template_syntax` with line and column.
  router.post('/templates/preview', async (req, res) => {
    const { contactId, variables, subject, html, text } = parseBody(req, SourcePreviewBody);
    const siteId = siteIdOf(req);
    const source = { subject, html, text: text ?? null };
    assertTemplateCompiles(source);
    const contact = contactId === undefined ? undefined : await getContact(db, siteId, contactId);
    if (contactId !== undefined && !contact) throw AppError.notFound('Contact', contactId);
    const rendered = renderOrExplain(() =>
      renderEmail(source, { contact: contact ? { ...contact } : null, variables, unsubscribeUrl: previewUnsubscribeUrl(config) }),
    );
    sendData(res, rendered);
  });

  router.post('/templates/:id/preview', async (req, res) => {
    const { id } = parseParams(req, IdParams);
    // A bodyless POST previews with no contact and no variables.
    const { contactId, variables } = req.body === undefined ? {} : parseBody(req, PreviewBody);
    const siteId = siteIdOf(req);
    const template = await getTemplate(db, siteId, id);
    if (!template) throw AppError.notFound('Template', id);
    const contact = contactId === undefined ? undefined : await getContact(db, siteId, contactId);
    if (contactId !== undefined && !contact) throw AppError.notFound('Contact', contactId);
    const rendered = renderOrExplain(() =>
      renderEmail(template, { contact: contact ? { ...contact } : null, variables, unsubscribeUrl: previewUnsubscribeUrl(config) }),
    );
    sendData(res, rendered);
  });

  return router;
}
