//! The demo workspace "Acme Agency": an admin, two agents and realistic tickets.

use anyhow::Context as _;
use opsflow_domain::{
    Channel, Email, Password, PersonName, Policies, ReplyBody, Role, Slug, TenantName, TenantScope,
    TicketBody, TicketPatch, TicketStatus, TicketSubject, User, UserId,
};
use opsflow_http::AppState;
use opsflow_ports::password_policy::NewPassword;
use opsflow_ports::repos::{AccountRepository, Store, UserRepository};
use opsflow_ports::services::auth::{LoginInput, SignupInput};
use opsflow_ports::services::tenant::TenantPatch;
use opsflow_ports::services::tickets::{NewReply, NewTicket};

/// Workspace name.
pub const DEMO_WORKSPACE: &str = "Acme Agency";
/// Password of every demo user.
pub const DEMO_PASSWORD: &str = "Harbor-Lantern-5732";

const ADMIN: (&str, &str) = ("Avery Admin", "admin@acme.example");
const AGENTS: [(&str, &str); 2] =
    [("Sam Rivera", "sam@acme.example"), ("Priya Shah", "priya@acme.example")];

/// The printed logins.
pub struct DemoLogins {
    created: bool,
}

impl DemoLogins {
    /// Prints the workspace and its logins.
    pub fn print(&self) {
        let verb = if self.created { "created" } else { "already present" };
        println!(
            "Demo workspace \"{DEMO_WORKSPACE}\" {verb}. Log in with (password {DEMO_PASSWORD}):"
        );
        println!("  admin: {}", ADMIN.1);
        for (_, email) in AGENTS {
            println!("  agent: {email}");
        }
    }
}

struct DemoTicket {
    subject: &'static str,
    body: &'static str,
    channel: Channel,
    customer: (&'static str, &'static str),
    status: TicketStatus,
    assignee: Option<usize>,
    reply: Option<&'static str>,
}

const TICKETS: &[DemoTicket] = &[
    DemoTicket {
        subject: "Checkout page returns a 500 error since this morning",
        body: "Hi team, since about 8am every customer who tries to pay on our shop gets an error page after entering card details. We are losing orders. Can you look at this urgently?",
        channel: Channel::Email,
        customer: ("Maria Lopez", "maria@bloomflorist.example"),
        status: TicketStatus::New,
        assignee: None,
        reply: None,
    },
    DemoTicket {
        subject: "Invoice #4471 charged twice",
        body: "Hello, our card statement shows the March retainer invoice #4471 was charged twice on the 3rd. Could you check and tell us how this will be corrected?",
        channel: Channel::Email,
        customer: ("Tom Becker", "tom@beckerlaw.example"),
        status: TicketStatus::Open,
        assignee: Some(0),
        reply: None,
    },
    DemoTicket {
        subject: "Can we add a newsletter signup to the footer?",
        body: "We'd love a small newsletter signup box in the website footer that feeds into Mailchimp. No rush, just something for the next sprint.",
        channel: Channel::Web,
        customer: ("Hannah Kim", "hannah@kimstudio.example"),
        status: TicketStatus::New,
        assignee: None,
        reply: None,
    },
    DemoTicket {
        subject: "How do I update the opening hours on the site?",
        body: "Hi! We change our opening hours for the holidays. Is there a way for me to edit them myself in the CMS, or should I send them to you?",
        channel: Channel::Chat,
        customer: ("Luca Romano", "luca@trattoria.example"),
        status: TicketStatus::Replied,
        assignee: Some(1),
        reply: Some(
            "Hi Luca, you can edit the opening hours yourself: in the CMS go to Settings → Business details → Opening hours, change the times and press Publish. If anything looks off afterwards, just reply here and we will take a look.",
        ),
    },
    DemoTicket {
        subject: "Mobile menu doesn't open on iPhone",
        body: "On my iPhone 13 (Safari) the hamburger menu on our homepage does nothing when tapped. Works on desktop. Customers have mentioned it twice this week.",
        channel: Channel::Web,
        customer: ("Grace Okafor", "grace@okaforfitness.example"),
        status: TicketStatus::Open,
        assignee: Some(1),
        reply: None,
    },
    DemoTicket {
        subject: "Request: export leads from contact form to CSV",
        body: "Would it be possible to download all contact form submissions as a CSV each month? Our sales team wants to load them into their CRM.",
        channel: Channel::Email,
        customer: ("Oliver Grant", "oliver@grantrealty.example"),
        status: TicketStatus::Pending,
        assignee: Some(0),
        reply: Some(
            "Hi Oliver, thanks for the idea. We have noted the monthly CSV export and will come back to you with options once we have looked at how your CRM imports leads.",
        ),
    },
    DemoTicket {
        subject: "Which plan includes SEO reporting?",
        body: "We're on the Starter plan. Does the Growth plan include the monthly SEO report, and how do we switch?",
        channel: Channel::Email,
        customer: ("Sofia Martins", "sofia@martinsdental.example"),
        status: TicketStatus::New,
        assignee: None,
        reply: None,
    },
    DemoTicket {
        subject: "Site is down - DNS error",
        body: "Our website shows 'server IP address could not be found' for everyone in the office and on mobile data. This started an hour ago. Our campaign launches today!",
        channel: Channel::Phone,
        customer: ("James Carter", "james@carterevents.example"),
        status: TicketStatus::New,
        assignee: None,
        reply: None,
    },
    DemoTicket {
        subject: "Update VAT number on invoices",
        body: "Our company VAT number changed. Please make sure future invoices show GB 123 4567 89 instead of the old one.",
        channel: Channel::Email,
        customer: ("Emma Wilson", "emma@wilsonarchitects.example"),
        status: TicketStatus::Closed,
        assignee: Some(0),
        reply: Some(
            "Hi Emma, thanks for letting us know. Your billing profile now shows the new VAT number and it will appear on all future invoices.",
        ),
    },
    DemoTicket {
        subject: "Blog images load very slowly",
        body: "The images on our blog posts take several seconds to appear, especially the header photos. Could they be optimised?",
        channel: Channel::Web,
        customer: ("Noah Fischer", "noah@fischercoffee.example"),
        status: TicketStatus::New,
        assignee: None,
        reply: None,
    },
    DemoTicket {
        subject: "Add Spanish version of the landing page",
        body: "A lot of our visitors are from Spain. Could we get a Spanish translation of the main landing page and a language switcher?",
        channel: Channel::Chat,
        customer: ("Isabel Ruiz", "isabel@ruizwines.example"),
        status: TicketStatus::New,
        assignee: None,
        reply: None,
    },
    DemoTicket {
        subject: "Password reset email never arrives",
        body: "Three of our staff tried 'forgot password' on the client portal today and none received the email, also not in spam.",
        channel: Channel::Email,
        customer: ("Daniel Novak", "daniel@novakclinic.example"),
        status: TicketStatus::Open,
        assignee: Some(1),
        reply: None,
    },
    DemoTicket {
        subject: "Thank you for the new brochure design",
        body: "Just wanted to say the new brochure looks fantastic, our clients love it. Great work from the whole team!",
        channel: Channel::Email,
        customer: ("Chloe Dubois", "chloe@duboisinteriors.example"),
        status: TicketStatus::Replied,
        assignee: Some(0),
        reply: Some(
            "Thank you so much, Chloe! We passed your note on to the design team. It was a pleasure working on it with you.",
        ),
    },
    DemoTicket {
        subject: "Google Ads campaign stopped showing",
        body: "Our Google Ads campaign shows 0 impressions since Monday. Budget is still there. Did something change in the account?",
        channel: Channel::Web,
        customer: ("Ahmed Hassan", "ahmed@hassanmotors.example"),
        status: TicketStatus::New,
        assignee: None,
        reply: None,
    },
];

const POLICIES: &str = "Be warm and concise. Never promise refunds, credits, discounts or delivery dates: \
billing changes are confirmed by the billing team. Urgent outages are escalated to the on-call engineer.";

/// Creates the demo workspace if it is missing (idempotent), returning its logins.
///
/// # Errors
/// Store failures.
pub async fn seed_demo<S: Store>(state: &AppState, store: &S) -> anyhow::Result<DemoLogins> {
    let slug = Slug::from_name(&TenantName::new(DEMO_WORKSPACE)?);
    if AccountRepository::slug_exists(store, &slug).await? {
        return Ok(DemoLogins { created: false });
    }
    let session = state
        .auth
        .signup(
            SignupInput {
                tenant_name: TenantName::new(DEMO_WORKSPACE)?,
                user_name: PersonName::new(ADMIN.0)?,
                email: Email::parse(ADMIN.1)?,
                password: NewPassword::new(DEMO_PASSWORD, &[])?,
                additional_workspace: false,
            },
            None,
        )
        .await
        .context("creating the demo workspace")?;
    // Acting as the new admin (with their session), so the settings change is in the audit log
    // under their name like any other.
    let ctx = state.auth.authenticate(&session.access_token).await?;
    let admin = ctx.scope;
    state
        .tenants
        .update(&ctx, TenantPatch { name: None, policies: Some(Policies::new(POLICIES)?) })
        .await?;
    let password = Password::new(DEMO_PASSWORD)?;
    let mut agents: Vec<UserId> = Vec::new();
    for (name, email) in AGENTS {
        let now = state.system.now();
        let user = User {
            id: UserId::new(),
            tenant_id: session.tenant.id,
            name: PersonName::new(name)?,
            email: Email::parse(email)?,
            password_hash: state.system.hash_password(&password).await?,
            role: Role::Agent,
            active: true,
            must_change_password: false,
            created_at: now,
            updated_at: now,
        };
        UserRepository::create(store, &admin, &user).await?;
        agents.push(user.id);
    }
    for t in TICKETS {
        let ticket = state
            .tickets
            .create(
                &admin,
                NewTicket {
                    subject: TicketSubject::new(t.subject)?,
                    body: TicketBody::new(t.body)?,
                    channel: t.channel,
                    customer_name: PersonName::new(t.customer.0)?,
                    customer_email: Email::parse(t.customer.1)?,
                },
            )
            .await?;
        let assignee = t.assignee.and_then(|i| agents.get(i).copied());
        let patch = TicketPatch {
            status: (t.reply.is_none() && t.status != TicketStatus::New).then_some(t.status),
            assignee_id: assignee.map(Some),
            ..TicketPatch::default()
        };
        if !patch.is_empty() {
            state.tickets.update(&admin, ticket.id, patch).await?;
        }
        if let Some(reply) = t.reply {
            let author =
                assignee.map_or(admin, |a| TenantScope::new(session.tenant.id, a, Role::Agent));
            state
                .tickets
                .reply(
                    &author,
                    ticket.id,
                    NewReply {
                        body: ReplyBody::new(reply)?,
                        status: Some(t.status),
                        draft_id: None,
                        confirm_warnings: false,
                    },
                )
                .await?;
        }
    }
    // The demo login must work (catches a hashing or store mismatch at once).
    state
        .auth
        .login(LoginInput { email: Email::parse(ADMIN.1)?, password, tenant_slug: None }, None)
        .await
        .context("logging in to the demo workspace")?;
    tracing::info!(tenant_id = %session.tenant.id, tickets = TICKETS.len(), "demo workspace created");
    Ok(DemoLogins { created: true })
}
