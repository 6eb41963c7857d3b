//! Names for the generated API types, so the rest of the app never spells schema paths.
import type { components, paths } from './schema';

type Schemas = components['schemas'];
/** The JSON body of a response or request, whatever its exact media type string. */
type JsonOf<R> = R extends { content: infer C } ? C[keyof C] : never;
type BodyOf<Op> = Op extends { requestBody?: infer B } ? JsonOf<NonNullable<B>> : never;

export type User = Schemas['User'];
/** A colleague as the team directory shows them (every `User` is one too). */
export type TeamMember = Schemas['TeamMember'];
export type Tenant = Schemas['Tenant'];
export type Role = User['role'];
export type AuthResponse = JsonOf<paths['/auth/login']['post']['responses'][200]>;
export type MeResponse = JsonOf<paths['/auth/me']['get']['responses'][200]>;
export type SignupBody = BodyOf<paths['/auth/signup']['post']>;
export type LoginBody = BodyOf<paths['/auth/login']['post']>;

export type AuditEvent = Schemas['AuditEvent'];
export type AuditKind = AuditEvent['kind'];
export type AuditPage = JsonOf<paths['/audit']['get']['responses'][200]>;
export type AuditQuery = NonNullable<paths['/audit']['get']['parameters']['query']>;

export type AiSettings = Schemas['AiSettings'];
export type AutoTriageMode = Schemas['AutoTriageMode'];
export type RunTrigger = Schemas['RunTrigger'];

export type ReplyPolicies = Schemas['ReplyPolicies'];
export type ReplyPolicySettings = Schemas['ReplyPolicySettings'];
export type SupportHours = Schemas['SupportHours'];
export type Weekday = Schemas['Weekday'];

export type EmailSettings = Schemas['EmailSettings'];
export type EmailSettingsInput = Schemas['EmailSettingsInput'];
export type EmailTestResult = Schemas['EmailTestResult'];
export type ConnectionCheck = Schemas['ConnectionCheck'];
export type MailboxStatus = Schemas['MailboxStatus'];
export type MailSecurity = Schemas['MailSecurity'];

export type Webhook = Schemas['Webhook'];
export type WebhookWithSecret = Schemas['WebhookWithSecret'];
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type WebhookDeliveryPage = Schemas['WebhookDeliveryPage'];
export type WebhookDeliveryStatus = Schemas['WebhookDeliveryStatus'];
export type CreateWebhookBody = Schemas['CreateWebhook'];
export type UpdateWebhookBody = Schemas['UpdateWebhook'];

export type Ticket = Schemas['Ticket'];
export type TicketStatus = Ticket['status'];
export type TicketPriority = NonNullable<Ticket['priority']>;
export type TicketCategory = NonNullable<Ticket['category']>;
export type TicketChannel = Ticket['channel'];
export type TicketPage = JsonOf<paths['/tickets']['get']['responses'][200]>;
export type TicketListQuery = NonNullable<paths['/tickets']['get']['parameters']['query']>;
export type TicketSort = Schemas['TicketSort'];
export type TicketView = Schemas['TicketView'];
export type TicketViewId = TicketView['id'];
export type TicketDetail = JsonOf<paths['/tickets/{id}']['get']['responses'][200]>;
export type CreateTicketBody = BodyOf<paths['/tickets']['post']>;
/**
 * The OpenAPI document cannot say that these fields accept null (null clears or unassigns), so
 * null is added here.
 */
export type UpdateTicketBody = {
  [K in keyof UpdateTicketSchemaBody]?: UpdateTicketSchemaBody[K] | null;
};
export type UpdateTicketSchemaBody = BodyOf<paths['/tickets/{id}']['patch']>;
export type BulkUpdateSchemaBody = BodyOf<paths['/tickets/bulk']['post']>;
/** A bulk update; as for `UpdateTicketBody`, null clears priority, category or assignee. */
export interface BulkUpdateBody {
  ids: string[];
  changes: {
    [K in keyof BulkUpdateSchemaBody['changes']]?: BulkUpdateSchemaBody['changes'][K] | null;
  };
}
export type BulkUpdateResponse = JsonOf<paths['/tickets/bulk']['post']['responses'][200]>;

/**
 * The wire form of a schema type: the server sends absent optional values as `null`, which the
 * generated types (optional properties) do not say.
 */
export type Wire<T> = {
  [K in keyof T]: undefined extends T[K] ? Exclude<T[K], undefined> | null : T[K];
};
export type Reply = TicketDetail['replies'][number];
/** A file that came with an email (download it with its ticket's id). */
export type Attachment = Schemas['AttachmentDto'];
/** The workspace's secret inbound email address. */
export type InboundAddress = Schemas['InboundAddressDto'];
export type Delivery = Schemas['Delivery'];
export type DeliveryState = Delivery['state'];

export type WorkflowRun = Schemas['WorkflowRun'];
export type WorkflowRunStatus = WorkflowRun['status'];
export type WorkflowStep = Schemas['WorkflowStep'];
export type StepType = WorkflowStep['step_type'];
export type TriageResponse = JsonOf<
  paths['/tickets/{id}/workflows/triage']['post']['responses'][200]
>;
export type RunDetail = JsonOf<paths['/workflows/runs/{id}']['get']['responses'][200]>;

export type CreateUserResponse = JsonOf<paths['/users']['post']['responses'][201]>;
export type PasswordResetResponse = JsonOf<
  paths['/users/{id}/password-reset']['post']['responses'][200]
>;
