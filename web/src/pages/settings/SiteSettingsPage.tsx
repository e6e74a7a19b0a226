import { Alert, Anchor, Button, Card, Group, NumberInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { errorMessage, get, patch } from '../../api/client';
import { useSession } from '../../auth/session';
import { Page, QueryState } from '../../components/Page';
import { RoleNotice } from '../../components/RoleNotice';
import type { Site } from './types';

/** The site's name and the sending rules that apply to all of it (the frequency cap). */
export function SiteSettingsPage() {
  const { isOwner, session } = useSession();
  const client = useQueryClient();
  const site = useQuery({ queryKey: ['site'], queryFn: () => get<{ data: Site }>('/site') });
  const [name, setName] = useState('');
  const [cap, setCap] = useState<number | ''>(0);
  useEffect(() => {
    if (site.data) {
      setName(site.data.data.name);
      setCap(site.data.data.sendFrequencyCapDays);
    }
  }, [site.data]);
  const save = useMutation({
    mutationFn: () => patch<{ data: Site }>('/site', { name: name.trim(), sendFrequencyCapDays: cap === '' ? 0 : cap }),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: 'Site settings saved' });
      void client.invalidateQueries({ queryKey: ['site'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const dirty = site.data ? name.trim() !== site.data.data.name || (cap === '' ? 0 : cap) !== site.data.data.sendFrequencyCapDays : false;

  return (
    <Page title="Site settings">
      <RoleNotice role={session?.user.role} needs="owner" what="site settings" />
      <QueryState isLoading={site.isLoading} error={site.error}>
        <form onSubmit={submit}>
          <Stack maw={640}>
            {save.error && (
              <Alert color="red" role="alert">
                {errorMessage(save.error)}
              </Alert>
            )}
            <Card withBorder>
              <Stack gap="sm">
                <Title order={3} size="h5">
                  Site
                </Title>
                <TextInput label="Site name" required maxLength={200} value={name} onChange={(e) => setName(e.currentTarget.value)} readOnly={!isOwner} />
              </Stack>
            </Card>
            <Card withBorder>
              <Stack gap="sm">
                <Title order={3} size="h5">
                  Frequency cap
                </Title>
                <NumberInput
                  label="Days between sequence emails to one person"
                  description="0 means no cap. A sequence email that would come sooner waits until the cap allows it; it is never skipped. Campaigns and transactional email are not capped."
                  min={0}
                  max={365}
                  allowDecimal={false}
                  allowNegative={false}
                  suffix={cap === 1 ? ' day' : ' days'}
                  value={cap}
                  onChange={(v) => setCap(v === '' ? '' : Number(v))}
                  readOnly={!isOwner}
                  w={{ base: '100%', sm: 360 }}
                />
              </Stack>
            </Card>
            <Card withBorder>
              <Stack gap={4}>
                <Title order={3} size="h5">
                  Send window
                </Title>
                <Text size="sm">
                  Each sequence has its own send window (the weekdays and hours its emails may go out, in each contact’s time zone). Set it on the sequence:{' '}
                  <Anchor component={Link} to="/sequences">
                    Sequences
                  </Anchor>
                  .
                </Text>
              </Stack>
            </Card>
            {isOwner && (
              <Group justify="flex-end">
                <Button type="submit" loading={save.isPending} disabled={!dirty}>
                  Save settings
                </Button>
              </Group>
            )}
          </Stack>
        </form>
      </QueryState>
    </Page>
  );
}
