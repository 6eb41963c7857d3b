import {
  Alert,
  Button,
  Grid,
  Group,
  Modal,
  Pagination,
  Paper,
  Select,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { useDisclosure, useMediaQuery } from '@mantine/hooks';
import { IconPlus } from '@tabler/icons-react';
import { useMemo, useState } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { ErrorState, PageLoader } from '@/components/QueryState';
import { useDirectory } from '@/lib/api/users';
import { useAuth } from '@/lib/auth/context';
import { useTickets } from '../api/tickets';
import { useTicketViews } from '../api/views';
import { BulkActionsBar, type BulkOutcome } from '../components/BulkActionsBar';
import { NewTicketForm } from '../components/NewTicketForm';
import { TicketFiltersBar } from '../components/TicketFiltersBar';
import { TicketCards, TicketsTable } from '../components/TicketsTable';
import { TicketViewsNav } from '../components/TicketViewsNav';
import { useSelection } from '../components/useSelection';
import { PAGE_SIZE, useTicketFilters } from '../components/useTicketFilters';

const ALL = 'all';

export function TicketsListPage() {
  const { user } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const denied = (location.state as { denied?: boolean } | null)?.denied === true;
  const [creating, { open, close }] = useDisclosure(false);
  const { filters, update, reset, query, active } = useTicketFilters();
  const tickets = useTickets(query);
  const directory = useDirectory();
  const users = directory.data ?? [];
  const views = useTicketViews();
  const viewList = Array.isArray(views.data) ? views.data : [];
  const view = viewList.find((v) => v.id === filters.view) ?? null;

  // Phones get cards (every field, nothing cut); wider screens the table.
  const phone = useMediaQuery('(max-width: 48em)');
  const List = phone ? TicketCards : TicketsTable;
  const shown = tickets.data?.items;
  const shownIds = useMemo(() => (shown ?? []).map((t) => t.id), [shown]);
  const selection = useSelection(shownIds);
  const [outcome, setOutcome] = useState<BulkOutcome | null>(null);

  const total = tickets.data?.total ?? 0;
  // Up to 1,000 matches the count is exact and pages are numbered; beyond, the list pages by
  // cursor (each page starts after the last ticket of the one before).
  const exact = tickets.data?.total_exact ?? true;
  const pages = Math.max(1, Math.ceil(total / (tickets.data?.page_size ?? PAGE_SIZE)));
  const nextCursor = tickets.data?.next_cursor ?? null;

  return (
    <Grid gap="lg">
      <Grid.Col span={{ base: 12, md: 3, lg: 2 }} visibleFrom="md">
        <TicketViewsNav views={viewList} current={filters.view} loading={views.isPending} />
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 9, lg: 10 }}>
        <Stack gap="md">
          <Group justify="space-between">
            <Title order={1} size="h2">
              {view ? view.name : 'Tickets'}
            </Title>
            <Button leftSection={<IconPlus size={16} />} onClick={open}>
              New ticket
            </Button>
          </Group>
          {/* Below the md breakpoint the sidebar is hidden: the views are a select instead. */}
          <Select
            hiddenFrom="md"
            label="View"
            data={[
              { value: ALL, label: 'All tickets' },
              ...viewList.map((v) => ({ value: v.id, label: `${v.name} (${v.count})` })),
            ]}
            value={filters.view ?? ALL}
            onChange={(value) =>
              void navigate(value && value !== ALL ? `/tickets?view=${value}` : '/tickets')
            }
            allowDeselect={false}
          />
          {denied && (
            <Alert color="yellow" role="status">
              That page is for workspace admins only.
            </Alert>
          )}
          <TicketFiltersBar
            filters={filters}
            onChange={update}
            onReset={reset}
            active={active}
            users={users}
            currentUser={user}
            defaultSort={view?.sort ?? 'created'}
          />
          {selection.selected.size > 0 && (
            <BulkActionsBar
              ids={[...selection.selected]}
              users={users}
              onDone={(failed, result) => {
                if (failed.length) selection.keep(failed);
                else selection.clear();
                setOutcome(result ?? null);
              }}
            />
          )}
          {outcome && (
            <Alert
              color={outcome.color}
              title={outcome.title}
              role="status"
              withCloseButton
              closeButtonLabel="Dismiss"
              onClose={() => setOutcome(null)}
            >
              {outcome.message}
            </Alert>
          )}
          <Paper withBorder radius="md" p={0}>
            {tickets.isPending ? (
              <PageLoader label="Loading tickets…" />
            ) : tickets.isError ? (
              <Stack p="md">
                <ErrorState error={tickets.error} onRetry={() => void tickets.refetch()} />
              </Stack>
            ) : tickets.data.items.length === 0 ? (
              <Stack p="xl" align="center" gap="xs">
                <Text fw={600}>
                  {active
                    ? 'No tickets match these filters'
                    : view
                      ? 'No tickets in this view'
                      : 'No tickets yet'}
                </Text>
                <Text c="dimmed" size="sm">
                  {active
                    ? 'Try clearing the filters.'
                    : view
                      ? 'Nothing to do here right now.'
                      : 'Create the first ticket to get started.'}
                </Text>
              </Stack>
            ) : (
              <List
                tickets={tickets.data.items}
                users={users}
                currentUser={user}
                selection={selection}
              />
            )}
          </Paper>
          {tickets.data && total > 0 && (
            <Group justify="space-between">
              <Text size="sm" c="dimmed" aria-live="polite">
                {exact
                  ? `${total.toLocaleString('en')} ${total === 1 ? 'ticket' : 'tickets'}`
                  : `${total.toLocaleString('en')}+ tickets`}
                {tickets.isFetching ? ' · updating…' : ''}
              </Text>
              {/* Best-match order has no cursor: its first 1,000 matches are numbered pages. */}
              {(exact || filters.sort === 'relevance') && !filters.cursor ? (
                pages > 1 && (
                  <Pagination
                    total={pages}
                    value={Math.min(filters.page, pages)}
                    onChange={(page) => update({ page })}
                    aria-label="Pages"
                  />
                )
              ) : (
                <Group gap="xs" role="navigation" aria-label="Pages">
                  <Button
                    variant="default"
                    size="xs"
                    disabled={!filters.cursor && filters.page <= 1}
                    onClick={() => update({ page: 1, cursor: null })}
                  >
                    First page
                  </Button>
                  <Button
                    variant="default"
                    size="xs"
                    disabled={!nextCursor}
                    onClick={() => update({ cursor: nextCursor })}
                  >
                    Next page
                  </Button>
                </Group>
              )}
            </Group>
          )}
        </Stack>
      </Grid.Col>
      <Modal opened={creating} onClose={close} title="New ticket" size="lg">
        <NewTicketForm
          onCancel={close}
          onCreated={(ticket) => {
            close();
            void navigate(`/tickets/${ticket.number}`);
          }}
        />
      </Modal>
    </Grid>
  );
}
