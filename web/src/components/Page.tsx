import { Alert, Center, Group, Loader, Stack, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { errorMessage } from '../api/client';

/** A page's frame: its title (the one h2 under the app's h1), actions on the right, then the content. */
export function Page({ title, actions, children }: { title: ReactNode; actions?: ReactNode; children: ReactNode }) {
  return (
    <Stack gap="md" maw={1200}>
      <Group justify="space-between" align="center" wrap="wrap" gap="sm">
        <Title order={2}>{title}</Title>
        {actions && <Group gap="xs">{actions}</Group>}
      </Group>
      {children}
    </Stack>
  );
}

/** What a query shows until it has data: a spinner, or the error in words. */
export function QueryState({ isLoading, error, children }: { isLoading: boolean; error: unknown; children: ReactNode }) {
  if (error) {
    return (
      <Alert color="red" title="Could not load" role="alert">
        {errorMessage(error)}
      </Alert>
    );
  }
  if (isLoading) {
    return (
      <Center py="xl">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  return <>{children}</>;
}
