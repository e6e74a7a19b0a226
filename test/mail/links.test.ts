import { describe, expect, it } from 'vitest';
import { createSigner } from '../../src/crypto/signing.js';
import { composeSendContent } from '../../src/mail/compose.js';
import { createLinks, createLinkTokens, listUnsubscribeHeaders, rewriteHtml } from '../../src/mail/links.js';
import { compileTemplate, renderEmail } from '../../src/mail/render.js';

const SECRET = 'links-test-secret-0123456789abcdefghijkl';
const links = createLinks({ secret: SECRET, publicUrl: 'https://mail.example.test/' });
const ids = { siteId: 3, contactId: 41, sendId: 977 };

/** The href of every `<a>` in order, entity-decoded the simple way the tests need. */
function hrefs(html: string): string[] {
  return [...html.matchAll(/<a\b[^>]*?\bhref="([^"]*)"/gi)].map((m) => m[1]!.replace(/&amp;/g, '&'));
}

function tokenOf(url: string, prefix: string): string {
  expect(url.startsWith(prefix)).toBe(true);
  return url.slice(prefix.length);
}

describe('tracking and unsubscribe links', () => {
  it('rewrites each web link of the HTML into a signed click link that names the send and the original URL', () => {
    const mail = links.forSend({ ...ids, trackOpens: false, trackClicks: true });
    const html = mail.decorate('<p><a href="https://shop.example.test/pricing?plan=pro&amp;ref=mail">Pricing</a> <A HREF=http://blog.example.test/>Blog</A></p>');
    const [pricing, blog] = hrefs(html);
    expect(links.verifyClick(tokenOf(pricing!, 'https://mail.example.test/t/c/'))).toEqual({ sendId: 977, url: 'https://shop.example.test/pricing?plan=pro&ref=mail' });
    expect(links.verifyClick(tokenOf(blog!, 'https://mail.example.test/t/c/'))).toEqual({ sendId: 977, url: 'http://blog.example.test/' });
    expect(html).toContain('>Pricing</a>');
  });

  it('leaves mailto, tel, anchors, relative links, no-track links and the unsubscribe link alone', () => {
    const mail = links.forSend({ ...ids, trackOpens: false, trackClicks: true });
    const untouched = [
      '<a href="mailto:help@example.test">Mail us</a>',
      '<a href="tel:+15550100">Call</a>',
      '<a href="#top">Top</a>',
      '<a href="/relative">Relative</a>',
      '<a href="https://login.example.test/" data-tidings-no-track>Log in</a>',
      `<a href="${mail.unsubscribeUrl}">Unsubscribe</a>`,
      '<!--[if mso]><a href="https://outlook.example.test/">VML button</a><![endif]-->',
    ].join('\n');
    expect(mail.decorate(untouched)).toBe(untouched);
  });

  it('keeps every other byte of the HTML as rendered', () => {
    const mail = links.forSend({ ...ids, trackOpens: false, trackClicks: true });
    const before = `<table role="presentation"><tr><td style="color:#333">Fish &amp; chips &nbsp; <b>now</b></td></tr></table><a title='x' href="https://a.example.test/x">x</a><br><a href="${mail.unsubscribeUrl}">Unsubscribe</a>`;
    const after = mail.decorate(before);
    const tracked = hrefs(after)[0]!;
    expect(after).toBe(before.replace('href="https://a.example.test/x"', `href="${tracked}"`));
  });

  it('adds one 1×1 open pixel before </body>, or at the end when the HTML has no body tag', () => {
    const mail = links.forSend({ ...ids, trackOpens: true, trackClicks: false });
    const unsubscribe = `<a href="${mail.unsubscribeUrl}">Unsubscribe</a>`;
    const full = mail.decorate(`<html><body><p>Hi</p>${unsubscribe}</body></html>`);
    expect(full.replace(unsubscribe, '')).toMatch(/^<html><body><p>Hi<\/p><img src="https:\/\/mail\.example\.test\/t\/o\/[^"]+" width="1" height="1" alt=""[^>]*\/><\/body><\/html>$/);
    const pixelToken = /\/t\/o\/([^"]+)"/.exec(full)![1]!;
    expect(links.verifyOpen(pixelToken)).toEqual({ sendId: 977 });
    expect(mail.decorate(`<p>Fragment</p>${unsubscribe}`).replace(unsubscribe, '')).toMatch(/^<p>Fragment<\/p><img src="https:\/\/mail\.example\.test\/t\/o\//);
  });

  it('changes nothing when the sending config tracks neither opens nor clicks', () => {
    const mail = links.forSend({ ...ids, trackOpens: false, trackClicks: false });
    const html = `<body><a href="https://a.example.test/">a</a><a href="${mail.unsubscribeUrl}">Unsubscribe</a></body>`;
    expect(mail.decorate(html)).toBe(html);
  });

  it('adds a visible unsubscribe link to the HTML and the text when the template has no {{ unsubscribeUrl }}', () => {
    const mail = links.forSend({ ...ids, trackOpens: false, trackClicks: false });
    const html = mail.decorate('<html><body><p>Big news</p></body></html>');
    expect(html).toMatch(/^<html><body><p>Big news<\/p><p [^>]*>Don't want these emails\? <a href="([^"]+)"[^>]*>Unsubscribe<\/a><\/p><\/body><\/html>$/);
    expect(hrefs(html)).toEqual([mail.unsubscribeUrl]);
    expect(mail.decorateText('Big news\n')).toBe(`Big news\n\n--\nUnsubscribe: ${mail.unsubscribeUrl}\n`);
    expect(mail.decorateText(`Bye: ${mail.unsubscribeUrl}`)).toBe(`Bye: ${mail.unsubscribeUrl}`);
  });

  it('gives each recipient an unsubscribe link and the RFC 8058 one-click headers for it', () => {
    const mail = links.forSend({ ...ids, trackOpens: true, trackClicks: true });
    const token = tokenOf(mail.unsubscribeUrl, 'https://mail.example.test/u/');
    expect(links.verifyUnsubscribe(token)).toEqual(ids);
    expect(mail.headers).toEqual({
      'List-Unsubscribe': `<${mail.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    expect(listUnsubscribeHeaders('https://x.test/u/t')['List-Unsubscribe']).toBe('<https://x.test/u/t>');
  });

  it('refuses tampered tokens, tokens of another kind and tokens signed with another secret', () => {
    const clickUrl = hrefs(links.forSend({ ...ids, trackOpens: false, trackClicks: true }).decorate('<a href="https://good.example.test/">g</a>'))[0]!;
    const token = tokenOf(clickUrl, 'https://mail.example.test/t/c/');
    const [payload, signature] = token.split('.') as [string, string];

    const forged = Buffer.from(JSON.stringify({ s: 977, u: 'https://evil.example.test/' })).toString('base64url');
    expect(links.verifyClick(`${forged}.${signature}`)).toBeNull();
    const flipped = signature.slice(0, -2) + (signature.endsWith('AA') ? 'BB' : 'AA');
    expect(links.verifyClick(`${payload}.${flipped}`)).toBeNull();
    expect(links.verifyClick(payload)).toBeNull();

    // A valid token of one kind is not a token of another.
    expect(links.verifyOpen(token)).toBeNull();
    expect(links.verifyUnsubscribe(token)).toBeNull();

    const otherSecret = createLinkTokens('another-secret-0123456789abcdefghijklmn');
    expect(links.verifyClick(otherSecret.signClick({ sendId: 977, url: 'https://evil.example.test/' }))).toBeNull();
    // Signed under the right key but with the wrong shape (no URL): not a click token either.
    expect(links.verifyClick(createSigner(SECRET, 'click').sign({ s: 977 }))).toBeNull();
  });

  it('rewrites the links people click (<a>, <area>) but not stylesheets or other hrefs', () => {
    const html = '<div><a id="a" href="https://one.example.test/">1</a><area href="https://two.example.test/"><link href="https://style.example.test/x.css"></div>';
    expect(rewriteHtml(html, (href) => `https://t.test/?to=${encodeURIComponent(href)}`)).toBe(
      '<div><a id="a" href="https://t.test/?to=https%3A%2F%2Fone.example.test%2F">1</a><area href="https://t.test/?to=https%3A%2F%2Ftwo.example.test%2F"><link href="https://style.example.test/x.css"></div>',
    );
  });
});

describe('tracking compiled into the template', () => {
  const links = createLinks({ secret: 'compiled-tracking-secret-0123456789abcdef', publicUrl: 'https://mail.example.test' });
  const templates = [
    '<html><body><h1>Hi {{ firstName }}</h1><p><a href="https://example.test/story">story</a> and <a href="https://example.test/docs">docs</a></p></body></html>',
    '<a href="https://x.test/?e={{ email | url_encode }}&amp;y=1">p</a><a href=\'https://single.test/\'>s</a><a href=https://unquoted.test/>u</a>' +
      '<a data-tidings-no-track href="https://login.test">n</a><a href="mailto:x@example.test">m</a><p><a href="{{ unsubscribeUrl }}">unsubscribe</a></p>',
    '<p>{% if firstName %}<a href="https://cond.test/{{ firstName }}">c</a>{% endif %}</p>{% for i in (1..2) %}<a href="https://loop.test/{{ i }}">{{ i }}</a>{% endfor %}',
    '<html><body><p>No links for {{ firstName }}</p></body></html><!-- after the body -->',
    '<area href="https://area.test/{{ firstName }}"><a HREF="https://upper.test">U</a><a href="https://dup.test/1" href="https://dup.test/2">d</a>',
    '{% if firstName %}<html><body><p>x</p></body></html>{% endif %}',
  ];
  const contacts = [{ firstName: 'Ada', email: 'a+b@example.test' }, { firstName: '', email: 'e@example.test' }];

  it('gives byte for byte the HTML that parsing and rewriting each rendered copy gives', () => {
    for (const html of templates) {
      const template = compileTemplate({ subject: 's', html });
      expect(template.trackedHtml).not.toBeNull();
      for (const contact of contacts) {
        for (const track of [true, false]) {
          const sendLinks = links.forSend({ siteId: 1, contactId: 2, sendId: 3, trackOpens: track, trackClicks: track });
          const compiled = composeSendContent(template, { contact }, sendLinks);
          const rewritten = sendLinks.decorate(renderEmail(template, { contact, unsubscribeUrl: sendLinks.unsubscribeUrl }).html);
          expect(compiled.html).toBe(rewritten);
        }
      }
    }
  });

  it('parses the rendered copy when Liquid could make markup, and tracks its links all the same', () => {
    const template = compileTemplate({ subject: 's', html: '<p>{{ bio | raw }}</p>' });
    expect(template.trackedHtml).toBeNull();
    const sendLinks = links.forSend({ siteId: 1, contactId: 2, sendId: 3, trackOpens: false, trackClicks: true });
    const { html } = composeSendContent(template, { contact: { bio: '<a href="https://bio.test/">me</a>' } }, sendLinks);
    expect(html).toMatch(/^<p><a href="https:\/\/mail\.example\.test\/t\/c\/[^"]+">me<\/a><\/p>/);
  });
});
