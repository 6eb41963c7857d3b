import { Badge, Loader, NavLink, Stack, Text } from '@mantine/core';
import { Link } from 'react-router';
import type { TicketView, TicketViewId } from '@/lib/api/types';

/**
 * The sidebar of the ticket list: "All tickets" and each view with its live count. Each entry
 * is a link (`/tickets?view=…`), so a view can be opened in a new tab and the back button works.
 */
export function TicketViewsNav({
  views,
  current,
  loading,
}: {
  views: readonly TicketView[];
  current: TicketViewId | null;
  loading: boolean;
}) {
  return (
    <nav aria-label="Views">
      <Stack gap={2}>
        <NavLink
          component={Link}
          to="/tickets"
          label="All tickets"
          active={!current}
          aria-current={!current ? 'page' : undefined}
        />
        {views.map((view) => (
          <NavLink
            key={view.id}
            component={Link}
            to={`/tickets?view=${view.id}`}
            label={view.name}
            active={current === view.id}
            aria-current={current === view.id ? 'page' : undefined}
            data-testid={`view-${view.id}`}
            rightSection={
              <Badge
                size="sm"
                variant={current === view.id ? 'filled' : 'light'}
                color="gray"
                aria-label={`${view.count} tickets`}
                styles={{ root: { overflow: 'visible' }, label: { overflow: 'visible' } }}
              >
                {view.count.toLocaleString()}
              </Badge>
            }
          />
        ))}
        {loading && <Loader size="xs" m="sm" aria-label="Loading views" />}
        {!loading && views.length === 0 && (
          <Text size="xs" c="dimmed" px="sm">
            Views are unavailable right now.
          </Text>
        )}
      </Stack>
    </nav>
  );
}
