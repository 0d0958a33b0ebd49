package store

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// A migration moves the file from schema version to-1 to to. Its step is
// run over the subscribers in chunks, each in its own transaction (a
// million subscribers in one transaction would hold them all in memory),
// and must be idempotent: a migration interrupted by a crash runs again
// from the start at the next open. The version is written once every chunk
// is done.
type migration struct {
	to   int
	step func(s *Store, tx *bolt.Tx, id uint64, v []byte) error
}

var migrations = []migration{
	{to: 2, step: moveConfirmation},
	{to: 3, step: splitDelivery},
}

// migrateChunk is how many subscribers one migration transaction handles.
const migrateChunk = 5000

// migrate brings a file written by an older papermail to SchemaVersion.
func (s *Store) migrate() error {
	for _, m := range migrations {
		v, err := s.schemaVersion()
		if err != nil {
			return err
		}
		if v >= m.to {
			continue
		}
		step := func(tx *bolt.Tx, id uint64, v []byte) error { return m.step(s, tx, id, v) }
		if err := s.eachSubscriberChunk(step); err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", m.to, err)
		}
		err = s.update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keySchema, []byte(strconv.Itoa(m.to)))
		})
		if err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", m.to, err)
		}
	}
	return nil
}

func (s *Store) schemaVersion() (int, error) {
	var n int
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keySchema)
		var err error
		if n, err = strconv.Atoi(string(v)); err != nil {
			return fmt.Errorf("unreadable schema version %q", v)
		}
		return nil
	})
	return n, err
}

// eachSubscriberChunk calls step for every subscriber record, in chunks of
// migrateChunk per transaction. step may rewrite the record it is given
// and write other buckets; it must not add or delete subscribers.
func (s *Store) eachSubscriberChunk(step func(tx *bolt.Tx, id uint64, v []byte) error) error {
	var next []byte = u64(0)
	for next != nil {
		err := s.update(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketSubscribers).Cursor()
			k, v := c.Seek(next)
			// Copy the keys and values first: step may write the bucket,
			// which moves a cursor's pages.
			type kv struct {
				id uint64
				v  []byte
			}
			var todo []kv
			for ; k != nil && len(todo) < migrateChunk; k, v = c.Next() {
				todo = append(todo, kv{btoi(k), append([]byte(nil), v...)})
			}
			if k == nil {
				next = nil
			} else {
				next = append([]byte(nil), k...)
			}
			for _, r := range todo {
				if err := step(tx, r.id, r.v); err != nil {
					return fmt.Errorf("subscriber %d: %w", r.id, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// moveConfirmation (schema 1 -> 2) moves the confirmation nonce and time a
// pending subscriber's record held into its own confirmation record.
func moveConfirmation(s *Store, tx *bolt.Tx, id uint64, v []byte) error {
	var legacy struct {
		State         model.State `json:"state"`
		ConfirmNonce  string      `json:"confirm_nonce"`
		ConfirmSentAt time.Time   `json:"confirm_sent_at"`
	}
	if err := json.Unmarshal(v, &legacy); err != nil {
		return err
	}
	if legacy.ConfirmNonce == "" {
		return nil
	}
	sub, err := getSubscriber(tx, id)
	if err != nil {
		return err
	}
	if legacy.State == model.StatePending && tx.Bucket(bucketConfirm).Get(u64(id)) == nil {
		c := model.Confirmation{SubscriberID: id, Nonce: legacy.ConfirmNonce, SentAt: legacy.ConfirmSentAt}
		if err := putConfirmation(tx, &c); err != nil {
			return err
		}
	}
	// Re-encoding drops the old fields.
	return s.putSubscriber(tx, &sub)
}

// splitDelivery (schema 2 -> 3) moves what delivery did (last digest,
// soft bounces) out of the profile into the subscriber's delivery record
// and gives them their key in the due index. A subscriber already split
// (a migration interrupted and run again) is read from its records and
// written back unchanged.
func splitDelivery(s *Store, tx *bolt.Tx, id uint64, _ []byte) error {
	sub, err := getSubscriber(tx, id)
	if err != nil {
		return err
	}
	return s.putSubscriber(tx, &sub)
}
