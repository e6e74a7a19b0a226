import { and, asc, count, eq } from 'drizzle-orm';
import { AppError, type ErrorDetail } from '../../errors.js';
import { compileTemplate, TemplateSyntaxError, type TemplateField } from '../../mail/render.js';
import type { DbOrTx } from '../client.js';
import { templates } from '../schema.js';

export type TemplateRow = typeof templates.$inferSelect;

export interface TemplateView {
  id: number;
  name: string;
  subject: string;
  html: string;
  /** Liquid source of the plain-text part; null means "derived from the rendered HTML". */
  text: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface TemplateInput {
  name: string;
  subject: string;
  html: string;
  text?: string | null;
}

/** An error detail that points into the template source. */
export type TemplateErrorDetail = ErrorDetail & { field: TemplateField; line: number; column: number };

const templateColumns = {
  id: templates.id,
  name: templates.name,
  subject: templates.subject,
  html: templates.html,
  text: templates.text,
  createdAt: templates.createdAt,
  updatedAt: templates.updatedAt,
};

const bySite = (siteId: number, id: number) => and(eq(templates.siteId, siteId), eq(templates.id, id))!;

/**
 * Parses the template as a send would, so a mistake is a 400 `template_syntax` at save time (with the
 * field, line and column) rather than a failed send later.
 */
export function assertTemplateCompiles(source: { subject: string; html: string; text?: string | null }): void {
  try {
    compileTemplate(source);
  } catch (err) {
    if (!(err instanceof TemplateSyntaxError)) throw err;
    const detail: TemplateErrorDetail = { path: err.field, field: err.field, line: err.line, column: err.column, message: err.reason };
    throw new AppError('template_syntax', 'invalid', `The template does not parse: ${err.message}`, [detail]);
  }
}

export async function createTemplate(db: DbOrTx, siteId: number, input: TemplateInput): Promise<TemplateView> {
  assertTemplateCompiles(input);
  const [row] = await db
    .insert(templates)
    .values({ siteId, name: input.name, subject: input.subject, html: input.html, text: input.text ?? null })
    .returning(templateColumns);
  return row!;
}

export async function listTemplates(
  db: DbOrTx,
  siteId: number,
  page: { limit: number; offset: number },
): Promise<{ rows: TemplateView[]; total: number }> {
  const where = eq(templates.siteId, siteId);
  const [rows, [totals]] = await Promise.all([
    db.select(templateColumns).from(templates).where(where).orderBy(asc(templates.id)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(templates).where(where),
  ]);
  return { rows, total: totals?.total ?? 0 };
}

export async function getTemplate(db: DbOrTx, siteId: number, id: number): Promise<TemplateView | null> {
  const [row] = await db.select(templateColumns).from(templates).where(bySite(siteId, id));
  return row ?? null;
}

/** Updates the given fields; the resulting template must still parse. Null when the site has no such template. */
export async function updateTemplate(db: DbOrTx, siteId: number, id: number, patch: Partial<TemplateInput>): Promise<TemplateView | null> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select(templateColumns).from(templates).where(bySite(siteId, id)).for('update');
    if (!current) return null;
    const next = { ...current, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
    assertTemplateCompiles(next);
    const [row] = await tx
      .update(templates)
      .set({ name: patch.name, subject: patch.subject, html: patch.html, text: patch.text, updatedAt: new Date() })
      .where(bySite(siteId, id))
      .returning(templateColumns);
    return row ?? null;
  });
}

/** Sends keep their rendered copy; their template_id is cleared (ON DELETE SET NULL). */
export async function deleteTemplate(db: DbOrTx, siteId: number, id: number): Promise<boolean> {
  const rows = await db.delete(templates).where(bySite(siteId, id)).returning({ id: templates.id });
  return rows.length > 0;
}
