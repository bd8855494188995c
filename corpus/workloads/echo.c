/*
 * echo - console input: read lines from stdin and echo each back as
 * "[machina:echo] echo: LINE" until a line "quit".
 *
 * Markers: "start", "ready", one "echo: ..." per line, "lines=N", "done".
 * End of input before "quit" prints "eof" and exits 1 without "done".
 */
#define WL_NAME "echo"
#include "workload.h"

int main(void)
{
    char line[512];
    long lines = 0;

    wl_say("start");
    wl_say("ready");
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strcmp(line, "quit") == 0) {
            wl_say("lines=%ld", lines);
            wl_say("done");
            return 0;
        }
        lines++;
        wl_say("echo: %s", line);
    }
    wl_say("eof lines=%ld", lines);
    return 1;
}
