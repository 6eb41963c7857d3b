//! The tabs of the admin settings area: workspace settings, reply policies, AI triage, the support mailbox, webhooks and the audit log.
import { Tabs } from '@mantine/core';
import { useLocation, useNavigate } from 'react-router';

const TABS = [
  { value: '/settings', label: 'Workspace' },
  { value: '/settings/policies', label: 'Reply policies' },
  { value: '/settings/ai', label: 'AI triage' },
  { value: '/settings/email', label: 'Email' },
  { value: '/settings/webhooks', label: 'Webhooks' },
  { value: '/settings/audit', label: 'Audit log' },
];

export function SettingsTabs() {
  const location = useLocation();
  const navigate = useNavigate();
  const current = TABS.some((t) => t.value === location.pathname) ? location.pathname : '/settings';
  return (
    <Tabs value={current} onChange={(value) => value && void navigate(value)}>
      <Tabs.List aria-label="Settings sections">
        {TABS.map((t) => (
          <Tabs.Tab key={t.value} value={t.value}>
            {t.label}
          </Tabs.Tab>
        ))}
      </Tabs.List>
    </Tabs>
  );
}
