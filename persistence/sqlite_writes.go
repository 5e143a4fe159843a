package persistence

// On SQLite every write of the process goes through the one writer
// connection. writeCounter wraps it and counts each call that could have
// changed the database, after the call has finished: a statement run
// outside a transaction once it has run (and committed), a statement that
// returns rows once its rows are closed, a transaction once it has
// committed or rolled back. A reader that noted the count before it read
// and finds it unchanged afterwards knows no write of this process ended
// in between; readCache builds on that.

import (
	"context"
	"database/sql/driver"
	"sync/atomic"

	"github.com/mattn/go-sqlite3"
)

// writeCounter is a driver.Connector for the writer connection.
type writeCounter struct {
	dsn    string
	driver *sqlite3.SQLiteDriver
	writes *atomic.Uint64
}

func (c *writeCounter) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &countingConn{SQLiteConn: conn.(*sqlite3.SQLiteConn), writes: c.writes}, nil
}

func (c *writeCounter) Driver() driver.Driver { return c.driver }

// countingConn is the writer connection; every method that runs SQL is
// counted, the rest are the driver's own.
type countingConn struct {
	*sqlite3.SQLiteConn
	writes *atomic.Uint64
}

func (c *countingConn) count() { c.writes.Add(1) }

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	defer c.count()
	return c.SQLiteConn.ExecContext(ctx, query, args)
}

func (c *countingConn) Exec(query string, args []driver.Value) (driver.Result, error) {
	defer c.count()
	return c.SQLiteConn.Exec(query, args)
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.rows(c.SQLiteConn.QueryContext(ctx, query, args))
}

func (c *countingConn) Query(query string, args []driver.Value) (driver.Rows, error) {
	return c.rows(c.SQLiteConn.Query(query, args))
}

// rows counts when the rows close: an UPDATE … RETURNING has finished
// (and, outside a transaction, committed) only then.
func (c *countingConn) rows(r driver.Rows, err error) (driver.Rows, error) {
	if err != nil {
		c.count()
		return nil, err
	}
	if sr, ok := r.(*sqlite3.SQLiteRows); ok {
		return &countingRows{SQLiteRows: sr, conn: c}, nil
	}
	c.count() // not the driver's rows: count now, and again on nothing
	return r, nil
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.SQLiteConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, conn: c}, nil
}

func (c *countingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.SQLiteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &countingStmt{SQLiteStmt: st.(*sqlite3.SQLiteStmt), conn: c}, nil
}

func (c *countingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

type countingRows struct {
	*sqlite3.SQLiteRows
	conn *countingConn
}

func (r *countingRows) Close() error {
	defer r.conn.count()
	return r.SQLiteRows.Close()
}

type countingTx struct {
	driver.Tx
	conn *countingConn
}

func (t *countingTx) Commit() error {
	defer t.conn.count()
	return t.Tx.Commit()
}

func (t *countingTx) Rollback() error {
	defer t.conn.count()
	return t.Tx.Rollback()
}

type countingStmt struct {
	*sqlite3.SQLiteStmt
	conn *countingConn
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	defer s.conn.count()
	return s.SQLiteStmt.ExecContext(ctx, args)
}

func (s *countingStmt) Exec(args []driver.Value) (driver.Result, error) {
	defer s.conn.count()
	return s.SQLiteStmt.Exec(args)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.conn.rows(s.SQLiteStmt.QueryContext(ctx, args))
}

func (s *countingStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.conn.rows(s.SQLiteStmt.Query(args))
}
