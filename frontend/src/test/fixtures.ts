//! Realistic API objects for component tests.
import type {
  Reply,
  RunDetail,
  Tenant,
  Ticket,
  User,
  Wire,
  WorkflowRun,
  WorkflowStep,
} from '@/lib/api/types';

/** Fixtures are written as the server sends them (null for absent values). */
function wire<T>(value: Wire<T>): T {
  return value as unknown as T;
}

const T0 = '2026-11-25T10:00:00Z';

export const tenant: Tenant = {
  id: '0193a000-0000-7000-8000-000000000001',
  name: 'Acme Agency',
  slug: 'acme-agency',
  policies: 'No refunds after 30 days.',
  created_at: T0,
  updated_at: T0,
};

export const admin: User = {
  id: '0193a000-0000-7000-8000-0000000000a1',
  tenant_id: tenant.id,
  name: 'Ada Admin',
  email: 'ada@acme.test',
  role: 'admin',
  active: true,
  must_change_password: false,
  created_at: T0,
  updated_at: T0,
};

export const agent: User = {
  ...admin,
  id: '0193a000-0000-7000-8000-0000000000b2',
  name: 'Ben Agent',
  email: 'ben@acme.test',
  role: 'agent',
};

export const ticket: Ticket = wire<Ticket>({
  id: '0193a000-0000-7000-8000-00000000c001',
  tenant_id: tenant.id,
  subject: 'Charged twice for November invoice',
  body: 'Hi, my card was charged twice this month. Please help.',
  channel: 'email',
  status: 'new',
  priority: null,
  category: null,
  customer_name: 'Carla Customer',
  customer_email: 'carla@example.com',
  number: 7,
  assignee_id: null,
  created_by_id: admin.id,
  created_at: T0,
  updated_at: T0,
});

export const triagedTicket: Ticket = {
  ...ticket,
  status: 'open',
  priority: 'high',
  category: 'billing',
  assignee_id: agent.id,
};

export const aiDraft: Reply = wire<Reply>({
  id: '0193a000-0000-7000-8000-00000000d001',
  ticket_id: ticket.id,
  author_type: 'ai',
  author_id: null,
  body: 'Hi Carla, sorry about the double charge. We are looking into it.',
  draft: true,
  sent_at: null,
  created_at: '2026-11-25T10:05:00Z',
  updated_at: '2026-11-25T10:05:00Z',
  attachments: [],
  delivery: null,
});

export function run(
  status: WorkflowRun['status'],
  extra: Partial<Wire<WorkflowRun>> = {},
): WorkflowRun {
  return wire<WorkflowRun>({
    id: '0193a000-0000-7000-8000-00000000e001',
    ticket_id: ticket.id,
    workflow_type: 'ticket_triage',
    status,
    started_by_user_id: admin.id,
    trigger: 'manual',
    error_message: null,
    started_at: '2026-11-25T10:04:58Z',
    finished_at: status === 'succeeded' || status === 'failed' ? '2026-11-25T10:05:01Z' : null,
    attempts: 1,
    ...extra,
  });
}

export function step(
  n: number,
  step_type: WorkflowStep['step_type'],
  output: unknown,
  extra: Partial<Wire<WorkflowStep>> = {},
): WorkflowStep {
  return wire<WorkflowStep>({
    id: `0193a000-0000-7000-8000-00000000f00${n}`,
    workflow_run_id: '0193a000-0000-7000-8000-00000000e001',
    step_type,
    succeeded: true,
    input_snapshot: {
      messages: [
        { role: 'system', content: 'You triage tickets.' },
        { role: 'user', content: 'ticket' },
      ],
    },
    output_snapshot: output,
    provider: 'offline',
    model: 'offline-v1',
    prompt_version: 'triage-2026-11',
    latency_ms: 12 + n,
    prompt_tokens: 100 + n,
    completion_tokens: 20 + n,
    attempts: 1,
    guardrail_flags: [],
    error_message: null,
    created_at: `2026-11-25T10:04:5${n}Z`,
    attempt: 1,
    ...extra,
  });
}

export const steps: WorkflowStep[] = [
  step(1, 'classification', { category: 'billing', reason: 'Mentions a duplicate card charge.' }),
  step(2, 'priority', { priority: 'high', reason: 'Money taken twice: customer impact is high.' }),
  step(
    3,
    'assignee_suggestion',
    { assignee_user_id: agent.id, reason: 'Ben has the fewest open tickets.' },
    {
      input_snapshot: {
        users: [
          { id: admin.id, name: admin.name, role: 'admin', open_tickets: 4 },
          { id: agent.id, name: agent.name, role: 'agent', open_tickets: 1 },
        ],
      },
    },
  ),
  step(4, 'reply_draft', { reply_body: aiDraft.body }, { guardrail_flags: ['refund_commitment'] }),
  step(5, 'persist', { ticket_id: ticket.id }),
];

export function runDetail(
  status: WorkflowRun['status'],
  stepList = steps,
  extra: Partial<Wire<WorkflowRun>> = {},
): RunDetail {
  return { workflow_run: run(status, extra), steps: stepList };
}
