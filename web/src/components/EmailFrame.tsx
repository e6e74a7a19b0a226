/**
 * An email's HTML, shown as the recipient's client would: in a sandboxed iframe with no scripts and no
 * same-origin access (sandbox=""), so nothing in the message can run or reach the dashboard.
 */
export function EmailFrame({ html, title, height = 480 }: { html: string; title: string; height?: number }) {
  return (
    <iframe
      sandbox=""
      srcDoc={html}
      title={title}
      referrerPolicy="no-referrer"
      style={{ width: '100%', height, border: '1px solid var(--mantine-color-gray-3)', borderRadius: 'var(--mantine-radius-md)', background: 'white' }}
    />
  );
}
