import { Alert, Code, Stack, Text, TextInput, Textarea } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useDebouncedValue } from '@mantine/hooks';
import { ApiError, errorMessage, post } from '../api/client';
import type { One, RenderedEmail, TemplateErrorDetail } from '../api/messages';

export interface TemplateSource {
  subject: string;
  html: string;
  text: string;
}

type Field = keyof TemplateSource;

/** The template problems of an API error (syntax or render), by field; empty for any other error. */
export function templateErrors(err: unknown): TemplateErrorDetail[] {
  if (!(err instanceof ApiError)) return [];
  if (err.code !== 'template_syntax' && err.code !== 'template_render_failed') return [];
  return (err.details as TemplateErrorDetail[]).map((d) => ({ ...d, field: d.field ?? (d.path as Field) }));
}

/** "line 2, column 4: unexpected …" */
export function describeTemplateError(d: TemplateErrorDetail): string {
  return d.line ? `Line ${d.line}, column ${d.column ?? 1}: ${d.message}` : d.message;
}

/** The offending line of the source with a caret under the column. */
function ErrorExcerpt({ source, detail }: { source: string; detail: TemplateErrorDetail }) {
  if (!detail.line) return null;
  const line = source.split('\n')[detail.line - 1];
  if (line === undefined) return null;
  const col = Math.max(1, detail.column ?? 1);
  const prefix = `${detail.line} | `;
  return (
    <Code block fz="xs" aria-label={`Line ${detail.line} of the source`}>
      {`${prefix}${line}\n${' '.repeat(prefix.length + col - 1)}^`}
    </Code>
  );
}

/**
 * Subject, HTML and plain-text Liquid sources, each showing the parse or render error the API found in
 * it (at its line and column) right under it.
 */
export function TemplateSourceFields({
  value,
  onChange,
  errors,
  disabled,
  htmlRows = 16,
}: {
  value: TemplateSource;
  onChange: (next: TemplateSource) => void;
  errors: TemplateErrorDetail[];
  disabled?: boolean;
  htmlRows?: number;
}) {
  const errorsOf = (field: Field) => errors.filter((e) => e.field === field);
  const errorOf = (field: Field) => {
    const found = errorsOf(field);
    return found.length === 0 ? undefined : found.map(describeTemplateError).join('; ');
  };
  const excerpts = (field: Field) =>
    errorsOf(field).map((d, i) => <ErrorExcerpt key={`${field}-${i}`} source={value[field]} detail={d} />);
  const mono = { input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 13 } };
  return (
    <Stack gap="sm">
      <TextInput label="Subject" required value={value.subject} onChange={(e) => onChange({ ...value, subject: e.currentTarget.value })} error={errorOf('subject')} disabled={disabled} />
      {excerpts('subject')}
      <Textarea
        label="HTML"
        description="Liquid: {{ firstName }}, {{ contact.customFields.plan }}, {{ unsubscribeUrl }}; output is HTML-escaped."
        required
        autosize
        minRows={htmlRows}
        maxRows={40}
        spellCheck={false}
        styles={mono}
        value={value.html}
        onChange={(e) => onChange({ ...value, html: e.currentTarget.value })}
        error={errorOf('html')}
        disabled={disabled}
      />
      {excerpts('html')}
      <Textarea
        label="Plain text (optional)"
        description="Left empty, the text part is derived from the HTML."
        autosize
        minRows={4}
        maxRows={20}
        spellCheck={false}
        styles={mono}
        value={value.text}
        onChange={(e) => onChange({ ...value, text: e.currentTarget.value })}
        error={errorOf('text')}
        disabled={disabled}
      />
      {excerpts('text')}
    </Stack>
  );
}

/**
 * Renders unsaved source for a contact through the API's own renderer (POST /templates/preview),
 * debounced while typing. `errors` are the template problems; `otherError` anything else.
 */
export function useLivePreview(source: TemplateSource, contactId: number | null, enabled = true) {
  const [debounced] = useDebouncedValue(source, 400);
  const ready = enabled && debounced.subject.trim() !== '' && debounced.html.trim() !== '';
  const query = useQuery({
    queryKey: ['templates', 'preview', debounced, contactId],
    queryFn: () =>
      post<One<RenderedEmail>>('/templates/preview', {
        subject: debounced.subject,
        html: debounced.html,
        text: debounced.text || null,
        ...(contactId ? { contactId } : {}),
      }).then((r) => r.data),
    enabled: ready,
    retry: false,
    placeholderData: keepPreviousData,
  });
  const errors = templateErrors(query.error);
  return {
    rendered: query.error ? undefined : query.data,
    errors,
    otherError: query.error && errors.length === 0 ? query.error : null,
    isFetching: query.isFetching,
    ready,
  };
}

/** A short notice for the preview column when the source does not render. */
export function PreviewProblems({ errors, otherError }: { errors: TemplateErrorDetail[]; otherError: unknown }) {
  if (otherError) {
    return (
      <Alert color="red" title="Preview failed" role="alert">
        {errorMessage(otherError)}
      </Alert>
    );
  }
  if (errors.length === 0) return null;
  return (
    <Alert color="red" title="The template does not render" role="alert">
      {errors.map((d, i) => (
        <Text key={i} size="sm">
          {d.field ? `${d.field === 'html' ? 'HTML' : d.field === 'text' ? 'Plain text' : 'Subject'}: ` : ''}
          {describeTemplateError(d)}
        </Text>
      ))}
    </Alert>
  );
}
