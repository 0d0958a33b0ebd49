// Package deliverability checks that papermail's mail reaches the inbox and
// looks right. It starts a small papermail instance the way internal/cli
// wires one (a bbolt store, the embedded templates, signed links, the DKIM
// composer, Maildir delivery and, when asked, the web pages on a loopback
// port), scores mail with SpamAssassin and drives a headless Chromium to
// measure and photograph the digest and the pages.
//
// The tests of this package hold the golden files of whole composed
// messages, the spam-score limit and the layout checks; cmd/screenshots
// uses the same helpers to write docs/screenshots.
package deliverability
