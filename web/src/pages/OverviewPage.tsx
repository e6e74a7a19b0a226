import { Text } from '@mantine/core';
import { Page } from '../components/Page';
import { useSession } from '../auth/session';

/** Placeholder until the overview (sends over time, running campaigns, failures) lands. */
export function OverviewPage() {
  const { session } = useSession();
  return (
    <Page title="Overview">
      <Text>Signed in to {session?.site.name}.</Text>
    </Page>
  );
}
