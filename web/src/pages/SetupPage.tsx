import { Alert, Button, Center, Loader, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { errorMessage, get } from '../api/client';
import { useSession } from '../auth/session';

/** The one-time link printed by the first `npm start` (or made by an owner's invite) lands here. */
export function SetupPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const { completeSetup } = useSession();
  const navigate = useNavigate();
  const link = useQuery({
    queryKey: ['setup-link', token],
    queryFn: () => get<{ siteName: string; role: string }>(`/auth/setup/${encodeURIComponent(token)}`),
    enabled: token !== '',
    retry: false,
  });
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await completeSetup({ token, email, name, password });
      navigate('/', { replace: true });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w="100%" maw={440} component="main">
        {token === '' || link.isError ? (
          <Alert color="red" title="This link cannot be used" role="alert">
            The sign-up link is invalid, expired or already used. Ask an owner for a new one, or run <code>tidings users create</code>.
          </Alert>
        ) : link.isLoading ? (
          <Center>
            <Loader aria-label="Checking the link" />
          </Center>
        ) : (
          <form onSubmit={submit} aria-labelledby="setup-title">
            <Stack>
              <Title order={1} size="h3" id="setup-title">
                Create your account
              </Title>
              <Text size="sm" c="dimmed">
                You are joining {link.data?.siteName} as {link.data?.role}.
              </Text>
              {error && (
                <Alert color="red" role="alert">
                  {error}
                </Alert>
              )}
              <TextInput label="Name" autoComplete="name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
              <TextInput label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
              <PasswordInput
                label="Password"
                description="At least 10 characters"
                autoComplete="new-password"
                required
                minLength={10}
                value={password}
                onChange={(e) => setPassword(e.currentTarget.value)}
              />
              <Button type="submit" loading={busy}>
                Create account and sign in
              </Button>
            </Stack>
          </form>
        )}
      </Paper>
    </Center>
  );
}
