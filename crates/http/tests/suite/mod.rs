//! The HTTP test cases, written once and run against every store backend.
//!
//! Each case is an `async fn(Ctx)`. `tests/http.rs` runs them on SQLite, `tests/mongo.rs` on
//! MongoDB; the lists below are the single source of which cases exist.

pub mod accounts;
pub mod api;
pub mod audit;
pub mod auto_triage;
pub mod bad_input;
pub mod concurrency;
pub mod edges;
pub mod email_settings;
pub mod inbound_mail;
pub mod isolation;
pub mod mail_poller;
pub mod outbox;
pub mod policies;
pub mod server_errors;
pub mod throttle;
pub mod ticket_list;
pub mod tokens;
pub mod triage;
pub mod webhooks;

/// Expands `$run!(module, [cases...])` for every suite; `$run` is given a backend by the caller.
#[macro_export]
macro_rules! all_suites {
    ($backend:expr) => {
        $crate::http_cases!(
            $backend,
            accounts,
            [
                password_change_checks_current_and_policy_and_ends_other_sessions,
                temporary_passwords_must_be_changed_before_anything_else,
                admin_reset_gives_a_new_temporary_password_and_ends_sessions,
                password_reset_of_another_tenants_user_is_404,
                logout_and_logout_everywhere_end_sessions_at_once,
                role_change_and_deactivation_end_that_users_sessions,
                signup_policy_and_duplicate_workspace_guard,
            ]
        );
        $crate::http_cases!(
            $backend,
            audit,
            [
                account_and_settings_changes_are_recorded_with_actor_and_target,
                filters_and_paging_narrow_the_log,
                agents_get_403_and_other_workspaces_see_none_of_it,
                bad_audit_parameters_are_4xx_naming_the_field,
            ]
        );
        $crate::http_cases!(
            $backend,
            api,
            [
                signup_creates_workspace_and_admin_and_token_works,
                login_succeeds_and_bad_credentials_get_identical_401,
                an_unknown_email_takes_as_long_as_a_wrong_password,
                repeated_failed_logins_are_refused_for_a_while,
                login_in_several_workspaces_requires_a_tenant_slug,
                tenant_can_be_read_by_all_and_changed_by_admins,
                team_members_are_listed_created_and_updated_by_admins,
                the_team_directory_is_open_to_every_member_without_emails,
                last_active_admin_cannot_be_demoted_or_deactivated,
                tickets_are_created_with_status_new_by_the_caller,
                ticket_list_filters_search_and_pages,
                tickets_are_patched_and_null_clears,
                replies_are_added_oldest_first_and_can_set_status,
                health_docs_metrics_and_web_routes_answer,
            ]
        );
        $crate::http_cases!(
            $backend,
            auto_triage,
            [
                ai_settings_are_admin_only_validated_audited_and_per_workspace,
                with_auto_triage_off_a_new_ticket_gets_no_run,
                suggest_mode_stores_suggestions_and_changes_no_field,
                apply_mode_sets_only_fields_whose_confidence_reaches_the_threshold,
                a_field_a_person_set_while_the_run_was_under_way_is_kept,
                an_email_that_opens_a_ticket_is_auto_triaged_and_a_follow_up_is_not,
            ]
        );
        $crate::http_cases!(
            $backend,
            bad_input,
            [
                signup_rejects_each_bad_field_and_creates_nothing,
                malformed_bodies_and_media_types_are_4xx_json,
                oversized_bodies_are_413,
                oversized_chunked_bodies_without_a_length_are_413,
                ticket_create_rejects_each_bad_field_and_creates_nothing,
                ticket_patch_reply_and_draft_reject_bad_fields,
                malformed_path_ids_are_400_naming_the_parameter,
                list_parameters_out_of_range_are_rejected,
                team_and_tenant_inputs_are_validated,
                unknown_routes_and_methods_are_json,
                odd_json_and_encodings_are_handled,
            ]
        );
        $crate::http_cases!(
            $backend,
            concurrency,
            [
                concurrent_signups_with_one_name_get_distinct_slugs,
                concurrent_signups_of_one_email_make_one_workspace,
                concurrent_creates_of_one_email_make_one_user,
                concurrent_demotions_keep_an_active_admin,
            ]
        );
        $crate::http_cases!(
            $backend,
            edges,
            [
                every_answer_carries_the_security_headers,
                hsts_is_sent_only_when_behind_tls,
                source_maps_are_never_served,
                over_long_uris_and_huge_headers_get_json_errors,
                half_sent_and_silent_connections_are_closed,
            ]
        );
        $crate::http_cases!(
            $backend,
            inbound_mail,
            [
                new_mail_opens_an_email_ticket_and_follow_ups_join_it,
                automatic_mail_never_opens_tickets,
                encodings_and_html_only_mail_are_readable,
                attachments_are_listed_and_downloaded_with_safe_headers,
                malformed_and_oversized_mail_is_refused_and_stores_nothing,
                inbound_addresses_are_per_workspace_admin_only_and_rotatable,
                the_same_message_posted_concurrently_makes_one_ticket,
            ]
        );
        $crate::http_cases!(
            $backend,
            email_settings,
            [
                email_settings_round_trip_and_passwords_are_never_returned,
                email_passwords_are_sealed_at_rest,
                email_settings_are_for_admins_of_the_workspace_only,
                bad_email_settings_are_4xx_naming_the_field,
                connection_test_says_which_part_failed_and_why,
            ]
        );
        $crate::http_cases!(
            $backend,
            mail_poller,
            [
                poller_hands_each_message_to_the_intake_once_in_order,
                a_store_failure_hands_the_message_over_again_next_round,
                a_wrong_password_is_in_the_status_with_a_backed_off_retry,
                two_pollers_on_one_store_read_a_mailbox_one_at_a_time,
                a_renumbered_folder_is_read_again_from_the_start,
                mail_in_the_folder_becomes_tickets_once,
                with_idle_new_mail_becomes_a_ticket_within_seconds,
                with_idle_off_the_mailbox_is_polled_every_interval,
                a_dropped_idle_connection_falls_back_to_polling,
            ]
        );
        $crate::http_cases!(
            $backend,
            isolation,
            [
                another_tenants_ids_are_not_found_and_unchanged,
                an_active_run_in_another_tenant_is_invisible,
            ]
        );
        $crate::http_cases!(
            $backend,
            outbox,
            [
                an_email_tickets_reply_reaches_the_customer_threaded,
                a_temporary_failure_is_retried_with_backoff_until_it_gives_up,
                a_rejected_email_fails_with_the_servers_words_and_can_be_retried,
                a_send_cut_short_by_a_crash_is_sent_once_by_a_fresh_worker,
                without_a_mailbox_email_replies_are_recorded_not_emailed,
                an_email_thread_stays_one_ticket_both_ways,
            ]
        );
        $crate::http_cases!(
            $backend,
            policies,
            [
                reply_policies_are_admin_only_validated_audited_and_per_workspace,
                the_next_draft_follows_changed_policies,
                forbidden_commitments_flag_drafts_and_replies_need_confirming,
            ]
        );
        $crate::http_cases!(
            $backend,
            webhooks,
            [
                subscribed_events_reach_the_receiver_signed,
                a_failing_endpoint_is_retried_then_disabled_and_re_enabled,
                private_addresses_are_refused_unless_the_operator_allows_them,
                webhooks_are_admin_only_and_other_workspaces_get_404,
                bad_webhook_input_is_4xx_naming_the_field,
            ]
        );
        $crate::http_cases!(
            $backend,
            server_errors,
            [
                a_failing_dependency_is_an_opaque_500_and_leaves_nothing,
                a_panic_is_an_opaque_json_500,
            ]
        );
        $crate::http_cases!(
            $backend,
            throttle,
            [
                parallel_wrong_passwords_never_get_more_than_the_limit,
                short_wrong_passwords_are_counted_and_an_empty_one_is_422,
                wrong_current_passwords_are_throttled_per_user,
                logins_are_limited_per_client_address,
                signups_are_limited_per_client_address,
            ]
        );
        $crate::http_cases!(
            $backend,
            ticket_list,
            [
                ticket_numbers_are_per_workspace_and_resolve_in_urls_and_search,
                list_filters_take_several_values_assignees_and_sorts,
                views_have_exact_counts_and_list_what_they_count,
                cursor_pages_follow_the_sort_and_stay_in_the_workspace,
                bulk_update_changes_each_ticket_and_reports_each_result,
                internal_notes_stay_internal_and_in_the_workspace,
                search_finds_reply_and_note_text_and_takes_any_input,
                flagged_replies_need_confirmation_which_is_audited,
            ]
        );
        $crate::http_cases!(
            $backend,
            tokens,
            [
                missing_and_malformed_tokens_are_401,
                expired_wrongly_signed_unsigned_and_tampered_tokens_are_401,
                a_claimed_role_does_not_grant_admin,
                tokens_of_a_short_lived_app_expire,
                deactivated_users_tokens_are_401,
            ]
        );
        $crate::http_cases!(
            $backend,
            triage,
            [
                sync_triage_with_the_offline_engine,
                ai_draft_is_edited_then_consumed_by_the_sent_reply,
                a_failing_provider_fails_the_run_and_leaves_the_ticket_unchanged,
                invalid_model_output_fails_the_run_cleanly,
                a_second_request_while_a_run_is_active_is_409_with_its_id,
                async_triage_is_completed_by_the_worker_pool,
                a_queued_run_survives_a_restart,
                redacted_prompts_are_what_the_model_gets_and_what_history_shows,
                a_double_click_starts_one_run,
                a_run_left_running_by_a_crash_is_finished_after_its_lease,
                a_model_cannot_assign_a_user_of_another_tenant,
                guardrail_flags_on_a_draft_are_returned_and_recorded,
                a_draft_can_only_be_consumed_on_its_own_ticket,
                two_servers_on_one_database_execute_each_queued_run_once,
                triage_through_an_openai_compatible_provider,
                a_provider_that_answers_500_fails_the_run,
            ]
        );
    };
}
