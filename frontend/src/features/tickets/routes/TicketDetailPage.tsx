import {
  Anchor,
  Breadcrumbs,
  Button,
  Grid,
  Group,
  Paper,
  Stack,
  Tabs,
  Text,
  ThemeIcon,
  Title,
} from '@mantine/core';
import { IconArrowLeft, IconTicketOff } from '@tabler/icons-react';
import { type ReactNode, useEffect } from 'react';
import { Link, useParams } from 'react-router';
import { StatusBadge } from '@/components/Badges';
import { ErrorState, PageLoader } from '@/components/QueryState';
import { ApiError } from '@/lib/api/errors';
import { useTicket } from '@/lib/api/tickets';
import type { TeamMember, TicketDetail } from '@/lib/api/types';
import { useDirectory } from '@/lib/api/users';
import { useAuth } from '@/lib/auth/context';
import { NoteForm } from '../components/NoteForm';
import { ReplyForm } from '../components/ReplyForm';
import { ReplyThread } from '../components/ReplyThread';
import { TicketFields } from '../components/TicketFields';
import { TicketHeader } from '../components/TicketHeader';

export interface TicketAsideProps {
  detail: TicketDetail;
  users: readonly TeamMember[];
}

/**
 * A ticket: editable header, conversation and reply form. `aside` renders what other features
 * add beside it (the AI triage panel), composed by the app's routes.
 */
export function TicketDetailPage({ aside }: { aside?: (props: TicketAsideProps) => ReactNode }) {
  const { id = '' } = useParams();
  const { user } = useAuth();
  const ticket = useTicket(id);
  const directory = useDirectory();
  const users = directory.data ?? [];
  const loaded = ticket.data?.ticket;
  const title = loaded ? `#${loaded.number} ${loaded.subject} · OpsFlow` : null;
  useEffect(() => {
    if (!title) return;
    const before = document.title;
    document.title = title;
    return () => {
      document.title = before;
    };
  }, [title]);

  if (ticket.isPending) return <PageLoader label="Loading ticket…" />;
  if (ticket.isError) {
    // A missing ticket, another workspace's, or a malformed id: no retry can help.
    const missing =
      ticket.error instanceof ApiError &&
      (ticket.error.status === 404 || ticket.error.status === 400);
    if (missing) return <TicketNotFound id={id} />;
    return <ErrorState error={ticket.error} onRetry={() => void ticket.refetch()} />;
  }

  const { ticket: t, replies } = ticket.data;
  return (
    <Stack gap="md">
      <Breadcrumbs>
        <Anchor component={Link} to="/tickets">
          Tickets
        </Anchor>
        <Text size="sm" c="dimmed" lineClamp={1}>
          #{t.number} {t.subject}
        </Text>
      </Breadcrumbs>
      <Paper withBorder p="md" radius="md">
        <Stack gap="sm">
          <Group justify="space-between" align="flex-start" wrap="wrap">
            <TicketHeader ticket={t} />
            <StatusBadge status={t.status} />
          </Group>
          <TicketFields ticket={t} users={users} currentUser={user} />
        </Stack>
      </Paper>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, lg: aside ? 7 : 12 }}>
          <Stack gap="md">
            <Title order={2} size="h4">
              Conversation
            </Title>
            <ReplyThread ticket={t} replies={replies} users={users} />
            <Paper withBorder p="md" radius="md">
              <Tabs defaultValue="reply" keepMounted>
                <Tabs.List mb="sm">
                  <Tabs.Tab value="reply">Reply to customer</Tabs.Tab>
                  <Tabs.Tab value="note">Internal note</Tabs.Tab>
                </Tabs.List>
                <Tabs.Panel value="reply">
                  <ReplyForm ticketId={t.id} />
                </Tabs.Panel>
                <Tabs.Panel value="note">
                  <NoteForm ticketId={t.id} users={users} />
                </Tabs.Panel>
              </Tabs>
            </Paper>
          </Stack>
        </Grid.Col>
        {aside && (
          <Grid.Col span={{ base: 12, lg: 5 }}>{aside({ detail: ticket.data, users })}</Grid.Col>
        )}
      </Grid>
    </Stack>
  );
}

/** A ticket that does not exist here: says so plainly and leads back to the list. */
function TicketNotFound({ id }: { id: string }) {
  const number = /^#?\d+$/.test(id) ? `#${id.replace('#', '')}` : null;
  return (
    <Paper withBorder p="xl" radius="md" role="alert" aria-labelledby="ticket-not-found">
      <Stack align="center" gap="sm">
        <ThemeIcon size={48} radius="xl" variant="light" color="gray">
          <IconTicketOff size={28} />
        </ThemeIcon>
        <Title order={1} size="h3" id="ticket-not-found">
          Ticket not found
        </Title>
        <Text c="dimmed" ta="center" maw={460}>
          {number
            ? `There is no ticket ${number} in this workspace.`
            : 'This link does not lead to a ticket in this workspace.'}{' '}
          It may have been mistyped, or it belongs to another workspace.
        </Text>
        <Button component={Link} to="/tickets" leftSection={<IconArrowLeft size={16} />}>
          Back to tickets
        </Button>
      </Stack>
    </Paper>
  );
}
