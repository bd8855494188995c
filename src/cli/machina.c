/* machina.c - placeholder until the board lands (replaced by the board work). */
#include <stdio.h>
int main(void)
{
    fprintf(stderr, "machina: the board is not built yet\n");
    return 2;
}
