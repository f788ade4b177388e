/**
 * The Docker API proxy's allow-list: exactly the requests cAdvisor and Alloy make pass,
 * anything that writes, execs, or reads another container's files is refused. The proxy
 * anchors each pattern (^...$) and matches it against the request path without its query;
 * the pattern uses only syntax that Go's RE2 and JavaScript read alike.
 */
import { describe, expect, it } from "vitest";
import { dockerApiAllowList, dockerSocketProxyArgs } from "../../components/observability/docker-api";

const id = "4f1c2b3a".repeat(8);
const allowed = (method: "GET" | "HEAD", path: string) => new RegExp(`^${dockerApiAllowList[method]}$`).test(path);

describe("the Docker API proxy's allow-list", () => {
  it.each([
    ["HEAD", "/_ping"],
    ["GET", "/_ping"],
    ["GET", "/v1.47/version"],
    ["GET", "/v1.47/info"],
    ["GET", `/v1.47/containers/${id}/json`],
    ["GET", "/v1.43/containers/json"],
    ["GET", "/v1.43/networks"],
    ["GET", `/v1.43/containers/${id}/logs`],
    ["GET", "/version"],
  ] as const)("lets %s %s through (what cAdvisor and Alloy request)", (method, path) => {
    expect(allowed(method, path)).toBe(true);
  });

  it.each([
    ["GET", `/v1.47/containers/${id}/archive`, "another container's files (secrets under /run/secrets)"],
    ["GET", `/v1.47/containers/${id}/export`, "another container's whole filesystem"],
    ["GET", `/v1.47/containers/${id}/stats`, "unused by either client"],
    ["GET", "/v1.47/events", "unused by either client"],
    ["GET", "/v1.47/images/json", "images (cAdvisor's web UI only)"],
    ["GET", "/v1.47/secrets", "swarm secrets"],
    ["GET", "/v1.47/containers/postgres/json", "a container by name: the clients use IDs"],
    ["GET", `/v1.47/containers/${id}/json/../../exec`, "a path that only starts like an allowed one"],
    ["GET", `/v1.47/exec/${id}/json`, "exec instances"],
    ["HEAD", "/v1.47/info", "HEAD is for the version negotiation only"],
  ] as const)("refuses %s %s (%s)", (method, path, _why) => {
    expect(allowed(method, path)).toBe(false);
  });

  it("allows GET and HEAD only, answers only its clients, and restarts when the engine's socket goes", () => {
    const args = dockerSocketProxyArgs(["alloy", "cadvisor"]);
    expect(args.filter((a) => a.startsWith("-allow") && a !== "-allowfrom=alloy,cadvisor" && a !== "-allowhealthcheck")).toEqual([
      `-allowGET=${dockerApiAllowList.GET}`,
      `-allowHEAD=${dockerApiAllowList.HEAD}`,
    ]);
    expect(args).toContain("-allowfrom=alloy,cadvisor");
    expect(args).toContain("-listenip=0.0.0.0");
    expect(args).toContain("-stoponwatchdog");
  });
});
