// Package deploy holds papermail's deployment files: a sandboxed systemd
// unit (papermail.service), a Docker Compose file with a health check
// (compose.yaml) and reverse-proxy examples (nginx.conf, Caddyfile). The package has
// no code; its tests parse each file and check it against the settings
// papermail needs.
package deploy
