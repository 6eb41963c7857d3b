//! Names for the generated API types, so the rest of the app never spells schema paths.
import type { components, paths } from './schema';

type Schemas = components['schemas'];
type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : never;

export type User = Schemas['User'];
export type Tenant = Schemas['Tenant'];
export type Role = User['role'];
export type AuthResponse = JsonOf<paths['/api/auth/login']['post']['responses'][200]>;
export type MeResponse = JsonOf<paths['/api/auth/me']['get']['responses'][200]>;
export type SignupBody = NonNullable<
  paths['/api/auth/signup']['post']['requestBody']
>['content']['application/json'];
export type LoginBody = NonNullable<
  paths['/api/auth/login']['post']['requestBody']
>['content']['application/json'];

export type Ticket = Schemas['Ticket'];
export type TicketStatus = Ticket['status'];
export type TicketPriority = NonNullable<Ticket['priority']>;
export type TicketCategory = NonNullable<Ticket['category']>;
export type TicketChannel = Ticket['channel'];
export type TicketPage = JsonOf<paths['/api/tickets']['get']['responses'][200]>;
export type TicketListQuery = NonNullable<paths['/api/tickets']['get']['parameters']['query']>;
export type TicketDetail = JsonOf<paths['/api/tickets/{id}']['get']['responses'][200]>;
export type CreateTicketBody = NonNullable<
  paths['/api/tickets']['post']['requestBody']
>['content']['application/json'];
export type UpdateTicketBody = NonNullable<
  paths['/api/tickets/{id}']['patch']['requestBody']
>['content']['application/json'];
export type Reply = TicketDetail['replies'][number];

export type WorkflowRun = Schemas['WorkflowRun'];
export type WorkflowRunStatus = WorkflowRun['status'];
export type WorkflowStep = Schemas['WorkflowStep'];
export type StepType = WorkflowStep['step_type'];
export type TriageResponse = JsonOf<
  paths['/api/tickets/{id}/workflows/triage']['post']['responses'][200]
>;
export type RunDetail = JsonOf<paths['/api/workflows/runs/{id}']['get']['responses'][200]>;

export type CreateUserResponse = JsonOf<paths['/api/users']['post']['responses'][201]>;
