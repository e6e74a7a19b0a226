import { AppShell, Burger, Button, Group, NavLink, ScrollArea, Stack, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { NavLink as RouterNavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { useSession } from '../auth/session';
import { pages, type NavSection } from '../routes';

const SECTIONS: Array<NavSection | undefined> = [undefined, 'Audience', 'Messages', 'Activity', 'Settings'];

/** The signed-in frame: header with the site and the user, navigation (a drawer below 768 px), the page. */
export function AppLayout() {
  const [opened, { toggle, close }] = useDisclosure();
  const { session, signOut, isOwner } = useSession();
  const navigate = useNavigate();
  const location = useLocation();

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={opened ? 'Close navigation' : 'Open navigation'} />
            <Title order={1} size="h4">
              Tidings
            </Title>
            <Text c="dimmed" size="sm" visibleFrom="xs" truncate>
              {session?.site.name}
            </Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text size="sm" visibleFrom="sm" truncate>
              {session?.user.email} · {session?.user.role}
            </Text>
            <Button
              variant="default"
              size="xs"
              onClick={async () => {
                await signOut();
                navigate('/login');
              }}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>

      <AppShell.Navbar p="xs" aria-label="Main navigation">
        <ScrollArea>
          <Stack gap={4}>
            {SECTIONS.map((section) => {
              const entries = pages.filter((p) => p.label && p.section === section && (!p.ownerOnly || isOwner));
              if (entries.length === 0) return null;
              return (
                <Stack key={section ?? 'top'} gap={2} mb="xs">
                  {section && (
                    <Text size="xs" c="dimmed" fw={700} tt="uppercase" px="sm" mt="xs">
                      {section}
                    </Text>
                  )}
                  {entries.map((page) => {
                    const to = `/${page.path}`;
                    const active = page.path === '' ? location.pathname === '/' : location.pathname === to || location.pathname.startsWith(`${to}/`);
                    return <NavLink key={page.path} component={RouterNavLink} to={to} end={page.path === ''} label={page.label} active={active} onClick={close} />;
                  })}
                </Stack>
              );
            })}
          </Stack>
        </ScrollArea>
      </AppShell.Navbar>

      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
