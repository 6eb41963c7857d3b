//! Triage runs: start one, follow it, list a ticket's runs, and act on the AI draft.
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '@/lib/api/client';
import { queryKeys } from '@/lib/api/keys';
import { invalidateTicketDetail } from '@/lib/api/tickets';
import type { Reply, RunDetail, WorkflowRun } from '@/lib/api/types';

/** How often a queued or running run is polled. */
export const POLL_MS = 600;

export function isActive(status: WorkflowRun['status'] | undefined): boolean {
  return status === 'queued' || status === 'running';
}

/** Starts a triage run in async mode; answers the run to follow. */
export async function startTriage(ticketId: string): Promise<WorkflowRun> {
  const data = await unwrap(
    api.POST('/tickets/{id}/workflows/triage', {
      params: { path: { id: ticketId }, query: { async: true } },
    }),
  );
  return data.workflow_run;
}

export function useStartTriage(ticketId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => startTriage(ticketId),
    onSuccess: (run) => {
      client.setQueryData<RunDetail>(
        queryKeys.run(run.id),
        (old) => old ?? { workflow_run: run, steps: [] },
      );
      void client.invalidateQueries({ queryKey: queryKeys.ticketRuns(ticketId) });
    },
  });
}

export function fetchRun(runId: string): Promise<RunDetail> {
  return unwrap(api.GET('/workflows/runs/{id}', { params: { path: { id: runId } } }));
}

export const runQueryOptions = (runId: string) =>
  queryOptions({
    queryKey: queryKeys.run(runId),
    queryFn: () => fetchRun(runId),
    refetchInterval: (query) => (isActive(query.state.data?.workflow_run.status) ? POLL_MS : false),
  });

export function useRun(runId: string | null) {
  return useQuery({ ...runQueryOptions(runId ?? ''), enabled: !!runId });
}

export async function fetchTicketRuns(ticketId: string): Promise<WorkflowRun[]> {
  const data: unknown = await unwrap(
    api.GET('/tickets/{id}/workflows', { params: { path: { id: ticketId } } }),
  );
  return Array.isArray(data) ? (data as WorkflowRun[]) : (data as { items: WorkflowRun[] }).items;
}

export const ticketRunsQueryOptions = (ticketId: string) =>
  queryOptions({
    queryKey: queryKeys.ticketRuns(ticketId),
    queryFn: () => fetchTicketRuns(ticketId),
  });

export function useTicketRuns(ticketId: string) {
  return useQuery(ticketRunsQueryOptions(ticketId));
}

export function saveDraft(ticketId: string, replyId: string, body: string): Promise<Reply> {
  return unwrap(
    api.PATCH('/tickets/{id}/replies/{reply_id}', {
      params: { path: { id: ticketId, reply_id: replyId } },
      body: { body },
    }),
  );
}

/** Sends the (edited) AI draft as the agent's reply and marks the ticket replied. */
export function sendDraft(
  ticketId: string,
  draftId: string,
  body: string,
  confirmWarnings = false,
): Promise<Reply> {
  return unwrap(
    api.POST('/tickets/{id}/replies', {
      params: { path: { id: ticketId } },
      body: {
        body,
        status: 'replied',
        draft_id: draftId,
        ...(confirmWarnings ? { confirm_warnings: true } : {}),
      },
    }),
  );
}

export function useSaveDraft(ticketId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ replyId, body }: { replyId: string; body: string }) =>
      saveDraft(ticketId, replyId, body),
    onSuccess: () => invalidateTicketDetail(client, ticketId),
  });
}

export function useSendDraft(ticketId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({
      draftId,
      body,
      confirm,
    }: {
      draftId: string;
      body: string;
      confirm?: boolean;
    }) => sendDraft(ticketId, draftId, body, confirm),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.tickets }),
  });
}
