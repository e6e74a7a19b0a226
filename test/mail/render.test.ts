import { convert as htmlToText } from 'html-to-text';
import { describe, expect, it } from 'vitest';
import {
  compileTemplate,
  renderEmail,
  templateCacheSize,
  TemplateRenderError,
  TemplateSyntaxError,
  type TemplateContact,
} from '../../src/mail/render.js';

const ada: TemplateContact = {
  email: 'ada@example.test',
  firstName: 'Ada',
  lastName: 'Lovelace',
  company: 'Analytical Engines',
  customFields: { plan: 'pro', seats: 3 },
};

function syntaxErrorOf(fn: () => unknown): TemplateSyntaxError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TemplateSyntaxError) return err;
    throw err;
  }
  throw new Error('expected a TemplateSyntaxError');
}

describe('template rendering', () => {
  it('fills contact fields at the top level and under contact, custom fields and per-send variables', () => {
    const rendered = renderEmail(
      {
        subject: 'Welcome to {{ company }}, {{ firstName }}',
        html: '<p>Hi {{ firstName | default: "there" }} ({{ contact.email }}), plan {{ contact.customFields.plan }}, order {{ orderId }} / {{ variables.orderId }}</p>',
      },
      { contact: ada, variables: { orderId: 'A-17' } },
    );
    expect(rendered.subject).toBe('Welcome to Analytical Engines, Ada');
    expect(rendered.html).toBe('<p>Hi Ada (ada@example.test), plan pro, order A-17 / A-17</p>');
  });

  it('renders missing variables as empty text instead of failing', () => {
    const rendered = renderEmail(
      { subject: 'Hi {{ firstName }}!', html: '<p>[{{ nothing }}][{{ contact.customFields.missing.deeper }}][{{ lastName }}]</p>' },
      { contact: { email: 'x@example.test', firstName: null } },
    );
    expect(rendered.subject).toBe('Hi !');
    expect(rendered.html).toBe('<p>[][][]</p>');
  });

  it('applies the default, upcase and date filters', () => {
    const rendered = renderEmail(
      {
        subject: '{{ firstName | default: "there" }}',
        html: '{{ firstName | default: "there" }} {{ contact.customFields.plan | upcase }} {{ signedUpAt | date: "%B %-d, %Y" }}',
      },
      { contact: { email: 'x@example.test', customFields: { plan: 'pro' } }, variables: { signedUpAt: '2024-03-05T23:30:00Z' } },
    );
    expect(rendered.subject).toBe('there');
    expect(rendered.html).toBe('there PRO March 5, 2024');
  });

  it('escapes contact data in HTML so a name cannot inject markup', () => {
    const rendered = renderEmail(
      { subject: 'Hello {{ firstName }}', html: '<p>Hello {{ firstName }}</p><a href="{{ unsubscribeUrl }}">Unsubscribe</a>' },
      {
        contact: { email: 'x@example.test', firstName: '<script>alert(1)</script>' },
        unsubscribeUrl: 'https://example.test/u?c=1&s=abc',
      },
    );
    expect(rendered.html).toBe(
      '<p>Hello &lt;script&gt;alert(1)&lt;/script&gt;</p><a href="https://example.test/u?c=1&amp;s=abc">Unsubscribe</a>',
    );
    expect(rendered.html).not.toContain('<script>');
    // The subject is a header, not HTML: escaping it would show entities to the reader.
    expect(rendered.subject).toBe('Hello <script>alert(1)</script>');
  });

  it('does not let a variable named unsubscribeUrl replace the real link', () => {
    const rendered = renderEmail(
      { subject: 's', html: '{{ unsubscribeUrl }}' },
      { variables: { unsubscribeUrl: 'https://evil.test' }, unsubscribeUrl: 'https://example.test/u/1' },
    );
    expect(rendered.html).toBe('https://example.test/u/1');
  });

  it('keeps a contact-provided newline out of the subject line', () => {
    const rendered = renderEmail({ subject: 'Hi {{ firstName }}', html: 'x' }, { contact: { firstName: 'Ada\r\nBcc: victim@example.test' } });
    expect(rendered.subject).toBe('Hi Ada Bcc: victim@example.test');
  });

  it('derives plain text from the rendered HTML when the template has none', () => {
    const rendered = renderEmail(
      {
        subject: 's',
        html: '<h1>Hello {{ firstName }}</h1><p>Your plan: <b>{{ contact.customFields.plan }}</b> &amp; more.</p><p><a href="{{ unsubscribeUrl }}">Unsubscribe</a></p>',
      },
      { contact: ada, unsubscribeUrl: 'https://example.test/u/1' },
    );
    expect(rendered.text).toBe('HELLO ADA\n\nYour plan: pro & more.\n\nUnsubscribe [https://example.test/u/1]');
  });

  it('derives the text part once per template: the same text as converting each rendered HTML', () => {
    const source = {
      subject: 's',
      html: '<h1>News for {{ firstName | default: "you" }}</h1><p>Read <a href="https://example.test/blog?for={{ email | url_encode }}">the story</a> &amp; more, {{ firstName }}.</p><p><a href="{{ unsubscribeUrl }}">{{ unsubscribeUrl }}</a></p>',
    };
    const compiled = compileTemplate(source);
    expect(compiled.derivedText).not.toBeNull();
    for (const contact of [ada, { email: 'b@example.test', firstName: '' }, { email: 'z@example.test', firstName: 'Zoë & <Co>' }]) {
      const rendered = renderEmail(compiled, { contact, unsubscribeUrl: 'https://example.test/u/1' });
      expect(rendered.text).toBe(htmlToText(rendered.html, { wordwrap: 100, selectors: [{ selector: 'a', options: { hideLinkHrefIfSameAsText: true } }, { selector: 'img', format: 'skip' }] }));
    }
  });

  it('converts each rendered HTML when Liquid could make markup or delimiters there', () => {
    expect(compileTemplate({ subject: 's', html: '<p>{{ bio | raw }}</p>' }).derivedText).toBeNull();
    expect(compileTemplate({ subject: 's', html: '<p>{% if a<b %}x{% endif %}</p>' }).derivedText).toBeNull();
    const literal = renderEmail({ subject: 's', html: '<p>&#123;&#123; firstName }} is {{ firstName }}</p>' }, { contact: ada });
    expect(literal.text).toBe('{{ firstName }} is Ada');
  });

  it('renders the template text part without HTML escaping when it has one', () => {
    const rendered = renderEmail(
      { subject: 's', html: '<p>{{ company }}</p>', text: 'Hi {{ firstName }} at {{ company }} & co' },
      { contact: { firstName: 'Ada', company: 'R&D <Labs>' } },
    );
    expect(rendered.html).toBe('<p>R&amp;D &lt;Labs&gt;</p>');
    expect(rendered.text).toBe('Hi Ada at R&D <Labs> & co');
  });

  it('parses a template once and reuses it from the cache', () => {
    const source = { subject: 'cache {{ firstName }}', html: `<p>${Math.random()}</p>` };
    const before = templateCacheSize();
    const first = compileTemplate(source);
    const second = compileTemplate({ ...source });
    expect(second).toBe(first);
    expect(templateCacheSize()).toBe(before + 1);
    expect(renderEmail(first, { contact: { firstName: 'Ada' } }).subject).toBe('cache Ada');
  });
});

describe('template validation', () => {
  it('reports an unknown filter with its line and column', () => {
    const err = syntaxErrorOf(() => compileTemplate({ subject: 'ok', html: '<p>Hello</p>\n<p>{{ firstName | shout }}</p>' }));
    expect(err).toMatchObject({ field: 'html', line: 2, column: 4, code: 'template_syntax_error' });
    expect(err.reason).toBe('undefined filter: shout');
  });

  it('reports an unclosed tag at the tag that opens it', () => {
    const err = syntaxErrorOf(() => compileTemplate({ subject: 'ok', html: 'line one\nline two\n  {% if firstName %}Hi' }));
    expect(err).toMatchObject({ field: 'html', line: 3, column: 3 });
    expect(err.reason).toContain('not closed');
  });

  it('reports an unterminated output in the subject', () => {
    const err = syntaxErrorOf(() => compileTemplate({ subject: 'Hi {{ firstName', html: 'ok' }));
    expect(err).toMatchObject({ field: 'subject', line: 1, column: 4 });
  });

  it('reports errors in the text part as the text field', () => {
    const err = syntaxErrorOf(() => compileTemplate({ subject: 'ok', html: 'ok', text: '{% endif %}' }));
    expect(err).toMatchObject({ field: 'text', line: 1, column: 1 });
  });

  it('refuses tags that would read files from the server', () => {
    for (const html of ['{% include "/etc/passwd" %}', '{% render "secrets" %}', '{% layout "x" %}']) {
      const err = syntaxErrorOf(() => compileTemplate({ subject: 'ok', html }));
      expect(err.reason).toMatch(/is not available in email templates/);
    }
  });

  it('stops a template that renders too long instead of stalling the worker', () => {
    const html = '{% for a in (1..100000) %}{% for b in (1..100000) %}x{% endfor %}{% endfor %}';
    expect(() => renderEmail({ subject: 's', html })).toThrow(TemplateRenderError);
  });
});
