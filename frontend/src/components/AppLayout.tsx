//! The signed-in frame: sidebar navigation, top bar with workspace and user menu.
import {
  AppShell,
  Avatar,
  Badge,
  Burger,
  Group,
  Menu,
  NavLink,
  Text,
  UnstyledButton,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import {
  IconBuilding,
  IconChevronDown,
  IconKey,
  IconLogout,
  IconLogout2,
  IconSettings,
  IconTicket,
  IconUsers,
} from '@tabler/icons-react';
import { NavLink as RouterNavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { useAuth } from '@/lib/auth/context';
import { Logo } from './Logo';

export function AppLayout() {
  const { user, tenant, signOut } = useAuth();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const navigate = useNavigate();
  const isAdmin = user?.role === 'admin';

  const links = [
    { to: '/tickets', label: 'Tickets', icon: IconTicket, show: true },
    { to: '/team', label: 'Team', icon: IconUsers, show: isAdmin },
    { to: '/settings', label: 'Settings', icon: IconSettings, show: isAdmin },
  ].filter((link) => link.show);

  return (
    <AppShell
      header={{ height: 60 }}
      navbar={{ width: 220, breakpoint: 'md', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="md"
              size="sm"
              aria-label="Toggle navigation"
            />
            <Logo />
          </Group>
          <Group gap="md" wrap="nowrap">
            <Group gap={6} visibleFrom="xs" wrap="nowrap" data-testid="workspace-name">
              <IconBuilding size={18} aria-hidden="true" />
              <Text fw={600} size="sm" aria-label="Workspace">
                {tenant?.name}
              </Text>
            </Group>
            <Menu position="bottom-end" withinPortal>
              <Menu.Target>
                <UnstyledButton aria-label="User menu">
                  <Group gap={6} wrap="nowrap">
                    <Avatar size="sm" color="indigo" radius="xl">
                      {initials(user?.name ?? '')}
                    </Avatar>
                    <Text size="sm" visibleFrom="sm">
                      {user?.name}
                    </Text>
                    <IconChevronDown size={14} aria-hidden="true" />
                  </Group>
                </UnstyledButton>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>
                  {user?.email}{' '}
                  <Badge size="xs" variant="light">
                    {user?.role}
                  </Badge>
                </Menu.Label>
                <Menu.Label>{tenant?.name}</Menu.Label>
                <Menu.Divider />
                <Menu.Item
                  leftSection={<IconKey size={16} />}
                  onClick={() => void navigate('/account/password')}
                >
                  Change password
                </Menu.Item>
                <Menu.Item
                  leftSection={<IconLogout size={16} />}
                  onClick={() => {
                    void signOut().then(() => navigate('/login', { replace: true }));
                  }}
                >
                  Log out
                </Menu.Item>
                <Menu.Item
                  leftSection={<IconLogout2 size={16} />}
                  onClick={() => {
                    void signOut(true).then(() => navigate('/login', { replace: true }));
                  }}
                >
                  Log out everywhere
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation">
        {links.map((link) => (
          <NavLink
            key={link.to}
            component={RouterNavLink}
            to={link.to}
            label={link.label}
            leftSection={<link.icon size={18} />}
            active={location.pathname.startsWith(link.to)}
            onClick={close}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0]?.toUpperCase())
    .join('');
}
