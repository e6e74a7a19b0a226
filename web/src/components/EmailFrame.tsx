import { withoutTracking } from './without-tracking';

/**
 * An email's HTML, shown as the recipient's client would: in a sandboxed iframe with no scripts and no
 * same-origin access (sandbox=""), so nothing in the message can run or reach the dashboard, and
 * without its tracking (looking at a message is not the recipient opening it).
 */
export function EmailFrame({ html, title, height = 480 }: { html: string; title: string; height?: number }) {
  return (
    <iframe
      // A fresh iframe per HTML: a browser test once saw a frame keep an older srcdoc after the source changed.
      key={html}
      sandbox=""
      srcDoc={withoutTracking(html)}
      title={title}
      referrerPolicy="no-referrer"
      style={{ width: '100%', height, border: '1px solid var(--mantine-color-gray-3)', borderRadius: 'var(--mantine-radius-sm)', background: 'white', display: 'block' }}
    />
  );
}
