package pgtest_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/labrador-dev/labrador/persistence/pgtest"
)

func open(t *testing.T, dsn string) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	return db
}

func checkDSN(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("DSN %q: %v", dsn, err)
	}
	if u.Scheme != "postgres" || u.User.Username() != "postgres" || u.Hostname() != "127.0.0.1" ||
		u.Port() == "" || u.Path != "/postgres" || u.RawQuery != "sslmode=disable" {
		t.Fatalf("DSN %q is not postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable", dsn)
	}
	return u.Port()
}

type widget struct {
	ID   uint `gorm:"primaryKey"`
	Name string
}

func TestStart(t *testing.T) {
	if err := pgtest.Available(); err != nil {
		t.Fatal(err) // CI installs PostgreSQL: never skip
	}

	began := time.Now()
	dsn1 := pgtest.Start(t)
	t.Logf("first Start took %v", time.Since(began))
	port1 := checkDSN(t, dsn1)
	db1 := open(t, dsn1)

	var one int
	if err := db1.Raw("SELECT 1").Scan(&one).Error; err != nil || one != 1 {
		t.Fatalf("SELECT 1: %d, %v", one, err)
	}
	var version string
	if err := db1.Raw("SHOW server_version").Scan(&version).Error; err != nil {
		t.Fatal(err)
	}
	t.Logf("server_version %s", version)
	for setting, want := range map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "200", "server_encoding": "UTF8"} {
		var got string
		if err := db1.Raw("SHOW " + setting).Scan(&got).Error; err != nil || got != want {
			t.Errorf("SHOW %s = %q (%v), want %q", setting, got, err, want)
		}
	}

	if err := db1.AutoMigrate(&widget{}); err != nil {
		t.Fatal(err)
	}
	if err := db1.Create(&widget{Name: "first"}).Error; err != nil {
		t.Fatal(err)
	}
	var got widget
	if err := db1.First(&got).Error; err != nil || got.Name != "first" || got.ID == 0 {
		t.Fatalf("read back %+v, %v", got, err)
	}

	began = time.Now()
	dsn2 := pgtest.Start(t)
	t.Logf("second Start took %v", time.Since(began))
	port2 := checkDSN(t, dsn2)
	if port1 == port2 {
		t.Fatalf("both clusters on port %s", port1)
	}
	db2 := open(t, dsn2)
	if db2.Migrator().HasTable(&widget{}) {
		t.Fatal("second cluster sees the first cluster's table")
	}
	if err := db2.AutoMigrate(&widget{}); err != nil {
		t.Fatal(err)
	}
	if err := db2.Create(&[]widget{{Name: "a"}, {Name: "b"}}).Error; err != nil {
		t.Fatal(err)
	}
	var n1, n2 int64
	db1.Model(&widget{}).Count(&n1)
	db2.Model(&widget{}).Count(&n2)
	if n1 != 1 || n2 != 2 {
		t.Fatalf("rows: first cluster %d (want 1), second %d (want 2)", n1, n2)
	}

	// Many connections at once (max_connections=200).
	sqlDB, _ := db1.DB()
	sqlDB.SetMaxOpenConns(50)
	errs := make(chan error, 50)
	for i := range 50 {
		go func() {
			var v int
			errs <- db1.Raw("SELECT ?::int FROM pg_sleep(0.05)", i).Scan(&v).Error
		}()
	}
	for range 50 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestStartParallel(t *testing.T) {
	ports := make(chan string, 4)
	t.Run("group", func(t *testing.T) {
		for i := range 4 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				began := time.Now()
				dsn := pgtest.Start(t)
				t.Logf("Start took %v", time.Since(began))
				ports <- checkDSN(t, dsn)
				db := open(t, dsn)
				name := fmt.Sprintf("t%d", i)
				if err := db.Exec("CREATE TABLE " + name + " (v int)").Error; err != nil {
					t.Fatal(err)
				}
				var tables []string
				if err := db.Raw("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").Scan(&tables).Error; err != nil {
					t.Fatal(err)
				}
				if strings.Join(tables, ",") != name {
					t.Fatalf("tables %v, want only %s", tables, name)
				}
			})
		}
	})
	close(ports)
	seen := map[string]bool{}
	for p := range ports {
		if seen[p] {
			t.Errorf("port %s handed out twice", p)
		}
		seen[p] = true
	}
}

// TestStopped checks that the cleanup really stops the cluster.
func TestStopped(t *testing.T) {
	var dsn string
	t.Run("start", func(t *testing.T) { dsn = pgtest.Start(t) })
	if dsn == "" {
		t.Fatal("no DSN")
	}
	db, err := gorm.Open(postgres.Open(dsn+"&connect_timeout=2"), &gorm.Config{Logger: logger.Discard})
	if err == nil {
		err = db.Exec("SELECT 1").Error
		if sqlDB, e := db.DB(); e == nil {
			sqlDB.Close()
		}
	}
	if err == nil {
		t.Fatal("cluster still answers after its test's cleanup")
	}
	t.Logf("after cleanup: %v", err)
}
