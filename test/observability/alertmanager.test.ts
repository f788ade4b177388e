import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { renderAlertmanagerConfig, type AlertmanagerConfig } from "../../components/observability/alertmanager";
import { monitoring, receiverInputs } from "./fixtures";

// The rendered file read back; receivers are inspected field by field, so keep them loose.
type AmConfig = Omit<AlertmanagerConfig, "receivers"> & { receivers: Record<string, unknown>[] };

const render = (receiver: unknown) => parse(renderAlertmanagerConfig(monitoring({ alertmanager: { receiver } }))) as AmConfig;

describe("alertmanager.yml", () => {
  it("groups by alertname and severity and routes critical alerts separately", () => {
    const config = render(receiverInputs.slack);
    expect(config.route).toMatchObject({
      receiver: "ops",
      group_by: ["alertname", "severity"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
    });
    expect(config.route.routes).toEqual([
      { receiver: "ops", matchers: ['severity="critical"'], group_wait: "10s", group_interval: "1m", repeat_interval: "1h" },
    ]);
  });

  it("inhibits warnings under a critical of the same alert, and symptoms under their cause", () => {
    const rules = render(receiverInputs.none).inhibit_rules;
    expect(rules[0]).toEqual({
      source_matchers: ['severity="critical"'],
      target_matchers: ['severity="warning"'],
      equal: ["alertname", "instance", "mountpoint", "service", "slo"],
    });
    const database = rules.find((r) => r.source_matchers.includes('alertname="DatabaseDown"'));
    expect(database?.target_matchers[0]).toMatch(/PostgresTooManyConnections/);
    expect(database?.target_matchers[0]).toMatch(/HighErrorRate/);
    expect(rules.find((r) => r.source_matchers.includes('alertname="RedisDown"'))?.target_matchers).toEqual([
      'alertname="RedisNearMaxmemory"',
    ]);
  });

  it("renders receiver none as a receiver without integrations", () => {
    expect(render(receiverInputs.none).receivers).toEqual([{ name: "ops" }]);
  });

  it("reads every credential from the mounted secret file, never inline", () => {
    const secret = "/etc/alertmanager/secrets/receiver";
    expect(render(receiverInputs.slack).receivers[0]).toMatchObject({
      slack_configs: [{ api_url_file: secret, channel: "#incidents", send_resolved: true }],
    });
    expect(render(receiverInputs.pagerduty).receivers[0]).toMatchObject({
      pagerduty_configs: [{ routing_key_file: secret, send_resolved: true }],
    });
    expect(render(receiverInputs.email).receivers[0]).toMatchObject({
      email_configs: [
        {
          to: "ops@example.com",
          from: "alertmanager@example.com",
          smarthost: "smtp.example.com:587",
          auth_username: "alertmanager",
          auth_password_file: secret,
          require_tls: true,
        },
      ],
    });
    expect(render(receiverInputs.webhook).receivers[0]).toMatchObject({
      webhook_configs: [
        { url: "https://hooks.example.com/alertmanager", http_config: { authorization: { type: "Bearer", credentials_file: secret } } },
      ],
    });
    expect(render(receiverInputs.webhookNoAuth).receivers[0]).toEqual({
      name: "ops",
      webhook_configs: [{ url: "https://hooks.example.com/alertmanager", send_resolved: true }],
    });
    expect(render(receiverInputs.emailRelay).receivers[0]).toEqual({
      name: "ops",
      email_configs: [
        {
          to: "ops@example.com",
          from: "alertmanager@example.com",
          smarthost: "relay.internal:25",
          require_tls: false,
          send_resolved: true,
        },
      ],
    });
  });

  it("never writes fields Alertmanager 0.25 rejects or inline secrets", () => {
    for (const receiver of Object.values(receiverInputs)) {
      const text = renderAlertmanagerConfig(monitoring({ alertmanager: { receiver } }));
      expect(text).not.toMatch(/\burl_file:/);
      expect(text).not.toMatch(/\b(api_url|routing_key|service_key|auth_password|credentials|bearer_token):/);
    }
  });
});
