import { Box, Stack, Tabs, Text } from '@mantine/core';
import type { RenderedEmail } from '../api/messages';
import { EmailFrame } from './EmailFrame';

/**
 * A rendered email: its subject, then the HTML in a sandboxed iframe (no scripts, no same-origin: the
 * HTML can neither run code nor reach the dashboard) and the plain-text part.
 */
export function EmailPreview({ email, height = 480 }: { email: RenderedEmail; height?: number }) {
  return (
    <Stack gap="xs">
      <Text size="sm">
        <Text span fw={600}>
          Subject:{' '}
        </Text>
        {email.subject}
      </Text>
      <Tabs defaultValue="html" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="html">HTML</Tabs.Tab>
          <Tabs.Tab value="text">Plain text</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="html" pt="xs">
          <EmailFrame html={email.html} title="Email preview" height={height} />
        </Tabs.Panel>
        <Tabs.Panel value="text" pt="xs">
          <Box
            component="pre"
            p="sm"
            m={0}
            style={{ whiteSpace: 'pre-wrap', fontSize: 13, border: '1px solid var(--mantine-color-gray-3)', borderRadius: 'var(--mantine-radius-sm)', maxHeight: height, overflow: 'auto' }}
          >
            {email.text}
          </Box>
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
