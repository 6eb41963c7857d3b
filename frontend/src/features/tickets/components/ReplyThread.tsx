import { Avatar, Badge, Button, Group, Paper, Stack, Text } from '@mantine/core';
import { IconLock, IconMail, IconRobot, IconUser, IconUserCircle } from '@tabler/icons-react';
import { errorMessage } from '@/lib/api/errors';
import type { Attachment, Delivery, Reply, TeamMember, Ticket } from '@/lib/api/types';
import { deliveryLabel } from '@/lib/delivery';
import { formatDateTime } from '@/lib/format';
import { useRetryDelivery } from '../api/tickets';
import { AttachmentList } from './AttachmentList';
import { withMentions } from './mentions';

const DELIVERY_COLORS: Record<Delivery['state'], string> = {
  queued: 'blue',
  sending: 'blue',
  sent: 'teal',
  failed: 'red',
  not_emailed: 'gray',
};

/** Where a sent reply's email is: queued, sent (when), failed (why, with Retry), or not emailed. */
function DeliveryStatus({
  ticketId,
  replyId,
  delivery,
}: {
  ticketId: string;
  replyId: string;
  delivery: Delivery;
}) {
  const retry = useRetryDelivery(ticketId);
  const reason =
    delivery.state === 'failed' || (delivery.state === 'queued' && delivery.attempts > 0)
      ? delivery.last_error
      : delivery.state === 'not_emailed'
        ? 'No mailbox was connected when this reply was saved.'
        : null;
  return (
    <Stack gap={4} mt="xs" data-testid="delivery">
      <Group gap="xs">
        <Badge
          size="sm"
          variant="light"
          color={DELIVERY_COLORS[delivery.state]}
          leftSection={<IconMail size={12} />}
        >
          {deliveryLabel(delivery)}
        </Badge>
        {delivery.state === 'failed' && (
          <Button
            size="compact-xs"
            variant="light"
            color="red"
            loading={retry.isPending}
            onClick={() => retry.mutate(replyId)}
          >
            Retry
          </Button>
        )}
      </Group>
      {reason && (
        <Text size="xs" c={delivery.state === 'failed' ? 'red' : 'dimmed'}>
          {reason}
        </Text>
      )}
      {retry.error && (
        <Text size="xs" c="red" role="alert">
          {errorMessage(retry.error)}
        </Text>
      )}
    </Stack>
  );
}

function Message({
  who,
  badge,
  icon,
  color,
  when,
  body,
  dashed,
  testId,
  files,
  footer,
}: {
  who: string;
  badge: string;
  icon: React.ReactNode;
  color: string;
  when: string;
  body: React.ReactNode;
  dashed?: boolean;
  testId: string;
  files?: { ticketId: string; attachments: readonly Attachment[] };
  footer?: React.ReactNode;
}) {
  return (
    <Paper
      withBorder
      p="md"
      radius="md"
      data-testid={testId}
      style={{
        borderLeft: `4px solid var(--mantine-color-${color}-5)`,
        borderStyle: dashed ? 'dashed' : undefined,
        background: dashed ? 'var(--mantine-color-yellow-0)' : undefined,
      }}
    >
      <Group justify="space-between" mb="xs" wrap="wrap">
        <Group gap="xs">
          <Avatar size="sm" color={color} radius="xl">
            {icon}
          </Avatar>
          <Text fw={600} size="sm">
            {who}
          </Text>
          <Badge size="sm" color={color} variant="light">
            {badge}
          </Badge>
        </Group>
        <Text size="xs" c="dimmed">
          {when}
        </Text>
      </Group>
      <Text size="sm" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
        {body}
      </Text>
      {files && <AttachmentList ticketId={files.ticketId} attachments={files.attachments} />}
      {footer}
    </Paper>
  );
}

/**
 * The customer's message and every reply, oldest first; AI drafts are marked as unsent. A sent
 * reply on an email ticket shows its email's delivery; on other tickets replies are recorded only.
 */
export function ReplyThread({
  ticket,
  replies,
  users,
  attachments = [],
}: {
  ticket: Ticket;
  replies: readonly Reply[];
  users: readonly TeamMember[];
  /** The files of the email that opened the ticket. */
  attachments?: readonly Attachment[];
}) {
  return (
    <Stack gap="sm" aria-label="Conversation">
      <Message
        testId="message-customer"
        who={ticket.customer_name}
        badge="Customer"
        icon={<IconUserCircle size={16} />}
        color="gray"
        when={formatDateTime(ticket.created_at)}
        body={ticket.body}
        files={{ ticketId: ticket.id, attachments }}
      />
      {replies.map((reply) => {
        if (reply.author_type === 'customer')
          return (
            <Message
              key={reply.id}
              testId="message-customer"
              who={ticket.customer_name}
              badge="Customer"
              icon={<IconUserCircle size={16} />}
              color="gray"
              when={formatDateTime(reply.created_at)}
              body={reply.body}
              files={{ ticketId: ticket.id, attachments: reply.attachments }}
            />
          );
        if (reply.author_type === 'note')
          return (
            <Message
              key={reply.id}
              testId="message-note"
              who={authorName(users, reply.author_id)}
              badge="Internal note · team only"
              icon={<IconLock size={16} />}
              color="yellow"
              when={formatDateTime(reply.created_at)}
              body={withMentions(reply.body, users)}
              dashed
            />
          );
        if (reply.draft)
          return (
            <Message
              key={reply.id}
              testId="message-draft"
              who={reply.author_type === 'ai' ? 'AI assistant' : authorName(users, reply.author_id)}
              badge={reply.author_type === 'ai' ? 'AI draft · not sent' : 'Draft · not sent'}
              icon={<IconRobot size={16} />}
              color="yellow"
              when={formatDateTime(reply.updated_at ?? reply.created_at)}
              body={reply.body}
              dashed
            />
          );
        return (
          <Message
            key={reply.id}
            testId="message-agent"
            who={reply.author_type === 'ai' ? 'AI assistant' : authorName(users, reply.author_id)}
            badge={replyBadge(reply)}
            icon={reply.author_type === 'ai' ? <IconRobot size={16} /> : <IconUser size={16} />}
            color="indigo"
            when={formatDateTime(reply.sent_at ?? reply.created_at)}
            body={reply.body}
            footer={
              reply.delivery ? (
                <DeliveryStatus ticketId={ticket.id} replyId={reply.id} delivery={reply.delivery} />
              ) : null
            }
          />
        );
      })}
    </Stack>
  );
}

/** "Agent reply · emailed" only when an email is on its way; otherwise it is recorded only. */
function replyBadge(reply: Reply): string {
  const who = reply.author_type === 'ai' ? 'AI reply' : 'Agent reply';
  const state = reply.delivery?.state;
  if (!state || state === 'not_emailed') return `${who} · recorded`;
  return `${who} · email`;
}

function authorName(users: readonly TeamMember[], id: string | null | undefined): string {
  return users.find((user) => user.id === id)?.name ?? 'Agent';
}
