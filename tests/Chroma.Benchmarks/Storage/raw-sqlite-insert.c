/*
 * The raw SQLite cost of the server's record INSERT, without .NET: the server's schema (records table, its id index,
 * records_by_set_dataset, records_by_set_sequence, the partial tombstone index), WAL, synchronous=FULL, groups of
 * 20,000 records with a savepoint per 1,000, 512-byte embeddings. Prints CPU microseconds per record (user, system).
 * Build: gcc -O2 -o /tmp/raw-sqlite-insert raw-sqlite-insert.c -lsqlite3   (Debian: libsqlite3-dev)
 * Run:   /tmp/raw-sqlite-insert records page_size cache_kib schema rows_per_insert wal_autocheckpoint savepoint
 *        schema: 0 all indexes, 1 without (set_key, sequence), 2 one (set_key, sequence, dataset, deleted) index,
 *        3 only the id index, 9 as 0 without AUTOINCREMENT. Environment: NORET=1 drops RETURNING (the server now),
 *        FK=1 enforces foreign keys, TEMPMEM=1 keeps temporary files in memory.
 * Example (the server before and after): ./raw-sqlite-insert 60000 4096 65536 0 1 1000 1; NORET=1 ./raw-sqlite-insert 60000 4096 65536 0 1 1000 1
 * It writes /tmp/raw-sqlite-insert.db (or $DB).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
static double cpu(double *sys){struct rusage r;getrusage(RUSAGE_SELF,&r);*sys=r.ru_stime.tv_sec+r.ru_stime.tv_usec/1e6;return r.ru_utime.tv_sec+r.ru_utime.tv_usec/1e6;}
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
static void ex(sqlite3*db,const char*s){char*e=0;if(sqlite3_exec(db,s,0,0,&e)){fprintf(stderr,"%s: %s\n",s,e);exit(1);}}
int main(int argc,char**argv){
  // args: N page_size cache_kib schema(0..) multirow wal_autockpt savepoint explicitseq
  int N=atoi(argv[1]),page=atoi(argv[2]),cache=atoi(argv[3]),schema=atoi(argv[4]),multi=atoi(argv[5]),ckpt=atoi(argv[6]),sp=atoi(argv[7]);
  const char*path=getenv("DB")?getenv("DB"):"/tmp/raw-sqlite-insert.db"; char b[512];
  unlink(path); sprintf(b,"%s-wal",path);unlink(b);sprintf(b,"%s-shm",path);unlink(b);
  sqlite3*db; sqlite3_open(path,&db);
  sprintf(b,"PRAGMA page_size=%d",page);ex(db,b);
  ex(db,"PRAGMA journal_mode=WAL");ex(db,"PRAGMA synchronous=FULL");
  sprintf(b,"PRAGMA cache_size=-%d",cache);ex(db,b);
  sprintf(b,"PRAGMA wal_autocheckpoint=%d",ckpt);ex(db,b);
  if(getenv("FK"))ex(db,"PRAGMA foreign_keys=ON");
  if(getenv("TEMPMEM"))ex(db,"PRAGMA temp_store=MEMORY");
  ex(db,"CREATE TABLE embedding_sets (set_key INTEGER PRIMARY KEY, set_id TEXT); INSERT INTO embedding_sets VALUES(1,'s');");
  const char*cols="set_key INTEGER NOT NULL REFERENCES embedding_sets (set_key), record_id TEXT NOT NULL, dataset TEXT NOT NULL, embedding BLOB NOT NULL, input_uri TEXT, predicted_class TEXT, class_probabilities BLOB, class_names TEXT, label TEXT, metadata TEXT, timestamp_ms INTEGER NOT NULL, content_hash BLOB NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, deleted_sequence INTEGER";
  char sch[4096];
  const char*pk= schema==9? "sequence INTEGER PRIMARY KEY" : "sequence INTEGER PRIMARY KEY AUTOINCREMENT";
  sprintf(sch,"CREATE TABLE records (%s, %s, UNIQUE(set_key, record_id));",pk,cols); ex(db,sch);
  ex(db,"CREATE INDEX records_deleted_by_set ON records (set_key, deleted_sequence) WHERE deleted_sequence IS NOT NULL;");
  if(schema==0||schema==9){ex(db,"CREATE INDEX records_by_set_dataset ON records (set_key, dataset, deleted, sequence);");ex(db,"CREATE INDEX records_by_set_sequence ON records (set_key, sequence);");}
  if(schema==1){ex(db,"CREATE INDEX records_by_set_dataset ON records (set_key, dataset, deleted, sequence);");}
  if(schema==2){ex(db,"CREATE INDEX records_by_set_sequence ON records (set_key, sequence, dataset, deleted);");}
  // schema 3: unique only
  unsigned char emb[512],hash[32]; for(int i=0;i<512;i++)emb[i]=rand(); for(int i=0;i<32;i++)hash[i]=rand();
  char (*ids)[40]=malloc(40*(size_t)N);
  for(int i=0;i<N;i++){ unsigned long long t=0x0190000000000000ULL+(unsigned long long)i*3; sprintf(ids[i],"%08llx-%04llx-7%03x-8%03x-%012llx",t>>32,(t>>16)&0xffff,rand()&0xfff,rand()&0xfff,((unsigned long long)rand()<<20)^rand());}
  char sql[200000]; int per=12; int rows=multi>0?multi:1;
  strcpy(sql,"INSERT INTO records (set_key, record_id, dataset, embedding, input_uri, predicted_class, class_probabilities, class_names, label, metadata, timestamp_ms, content_hash) VALUES ");
  for(int r=0;r<rows;r++){ strcat(sql, r?",(?,?,?,?,?,?,?,?,?,?,?,?)":"(?,?,?,?,?,?,?,?,?,?,?,?)"); }
  strcat(sql, getenv("NORET")?" ON CONFLICT (set_key, record_id) DO NOTHING":" ON CONFLICT (set_key, record_id) DO NOTHING RETURNING sequence");
  sqlite3_stmt*st; if(sqlite3_prepare_v2(db,sql,-1,&st,0)){fprintf(stderr,"%s\n",sqlite3_errmsg(db));return 1;}
  double s0,s1; double u0=cpu(&s0), w0=now();
  int G=20000,B=1000; long long seqsum=0;
  for(int g=0;g<N;g+=G){
    ex(db,"BEGIN");
    for(int bt=g;bt<g+G&&bt<N;bt+=B){
      if(sp)ex(db,"SAVEPOINT batch");
      for(int i=bt;i<bt+B&&i<N;i+=rows){
        for(int r=0;r<rows;r++){ int o=r*per; int k=i+r;
          sqlite3_bind_int64(st,o+1,1); sqlite3_bind_text(st,o+2,ids[k],36,SQLITE_STATIC); sqlite3_bind_text(st,o+3,"production",10,SQLITE_STATIC);
          sqlite3_bind_blob(st,o+4,emb,512,SQLITE_STATIC); for(int z=5;z<=10;z++)sqlite3_bind_null(st,o+z);
          sqlite3_bind_int64(st,o+11,1700000000000LL); sqlite3_bind_blob(st,o+12,hash,32,SQLITE_STATIC);}
        while(sqlite3_step(st)==SQLITE_ROW) seqsum+=sqlite3_column_int64(st,0);
        if(getenv("NORET")) seqsum+=sqlite3_changes(db)+sqlite3_last_insert_rowid(db);
        sqlite3_reset(st);
      }
      if(sp)ex(db,"RELEASE batch");
    }
    ex(db,"UPDATE embedding_sets SET set_id='s' WHERE set_key=1");
    ex(db,"COMMIT");
  }
  double u1=cpu(&s1), w1=now();
  FILE*f=fopen(path,"rb"); fseek(f,0,SEEK_END); long sz=ftell(f); fclose(f);
  printf("page %5d cache %6dK schema %d rows/stmt %3d ckpt %5d sp %d: user %5.1f sys %5.1f total %5.1f us/rec, wall %7.0f rec/s, %4ld B/rec\n",page,cache,schema,rows,ckpt,sp,(u1-u0)/N*1e6,(s1-s0)/N*1e6,((u1-u0)+(s1-s0))/N*1e6,N/(w1-w0),sz/N);
  sqlite3_finalize(st); sqlite3_close(db); return 0;
}
