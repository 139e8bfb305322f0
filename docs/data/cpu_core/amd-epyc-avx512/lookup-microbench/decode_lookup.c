#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
/* Decoding 8-bit codes to float levels three ways, one thread: a 16-lane gather (vpgatherdd),
 * byte permutes from four byte planes (vpermi2b, AVX-512 VBMI), one scalar load per code.
 * gcc -O3 -o dec decode_lookup.c && ./dec */
#define FN __attribute__((target("avx512f,avx512bw,avx512vbmi"), noinline))
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
/* one scalar load per code (the compiler must not vectorize it into a gather) */
__attribute__((noinline, optimize("no-tree-vectorize"))) void dec_scalar(const uint8_t*c,const float*lv,float*out,int64_t n){
  for(int64_t i=0;i<n;i++)out[i]=lv[c[i]];}
FN void dec_gather(const uint8_t*c,const float*lv,float*out,int64_t n){
  for(int64_t i=0;i<n;i+=16){__m512i k=_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i*)(c+i)));
  _mm512_storeu_ps(out+i,_mm512_i32gather_ps(k,lv,4));}}
/* planes: 4 x 256 bytes: plane b holds byte b of every level */
FN void dec_vbmi(const uint8_t*c,const uint8_t*planes,float*out,int64_t n){
  __m512i t[4][4];
  for(int b=0;b<4;b++)for(int q=0;q<4;q++)t[b][q]=_mm512_loadu_si512(planes+256*b+64*q);
  uint8_t perm[64]; for(int L=0;L<4;L++)for(int k=0;k<16;k++)perm[16*L+k]=16*(k/4)+4*L+k%4;
  const __m512i P=_mm512_loadu_si512(perm);
  for(int64_t i=0;i<n;i+=64){
    __m512i idx=_mm512_permutexvar_epi8(P,_mm512_loadu_si512(c+i));
    __mmask64 hi=_mm512_movepi8_mask(idx);
    __m512i pl[4];
    for(int b=0;b<4;b++){
      __m512i lo=_mm512_permutex2var_epi8(t[b][0],idx,t[b][1]);
      __m512i up=_mm512_permutex2var_epi8(t[b][2],idx,t[b][3]);
      pl[b]=_mm512_mask_blend_epi8(hi,lo,up);}
    __m512i w0=_mm512_unpacklo_epi8(pl[0],pl[1]),w1=_mm512_unpackhi_epi8(pl[0],pl[1]);
    __m512i w2=_mm512_unpacklo_epi8(pl[2],pl[3]),w3=_mm512_unpackhi_epi8(pl[2],pl[3]);
    _mm512_storeu_si512(out+i,_mm512_unpacklo_epi16(w0,w2));
    _mm512_storeu_si512(out+i+16,_mm512_unpackhi_epi16(w0,w2));
    _mm512_storeu_si512(out+i+32,_mm512_unpacklo_epi16(w1,w3));
    _mm512_storeu_si512(out+i+48,_mm512_unpackhi_epi16(w1,w3));
  }}
int main(){int64_t n=1<<14; uint8_t*c=malloc(n);float*o1=malloc(4*n),*o2=malloc(4*n);float lv[256];uint8_t planes[1024];
 for(int i=0;i<256;i++){lv[i]=i*0.37f-40;uint32_t b;memcpy(&b,&lv[i],4);for(int k=0;k<4;k++)planes[256*k+i]=(b>>(8*k))&255;}
 srand(1);for(int64_t i=0;i<n;i++)c[i]=rand()&255;
 dec_gather(c,lv,o1,n);dec_vbmi(c,planes,o2,n);printf("equal %d\n",memcmp(o1,o2,4*n)==0);
 dec_scalar(c,lv,o2,n);printf("equal %d\n",memcmp(o1,o2,4*n)==0);
 for(int rep=0;rep<3;rep++){double t0=now();for(int r=0;r<2000;r++)dec_gather(c,lv,o1,n);double t1=now();for(int r=0;r<2000;r++)dec_vbmi(c,planes,o2,n);double t2=now();
 for(int r=0;r<2000;r++)dec_scalar(c,lv,o2,n);double t3=now();
 printf("gather %.3f ns/value  vbmi %.3f ns/value  scalar loads %.3f ns/value\n",(t1-t0)/2000/n*1e9,(t2-t1)/2000/n*1e9,(t3-t2)/2000/n*1e9);}
}
