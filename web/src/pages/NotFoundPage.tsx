import { Anchor, Text } from '@mantine/core';
import { Link } from 'react-router';
import { Page } from '../components/Page';

export function NotFoundPage() {
  return (
    <Page title="Page not found">
      <Text>
        There is nothing here. <Anchor component={Link} to="/">Back to the overview</Anchor>
      </Text>
    </Page>
  );
}
